import { httpHandler } from '#http/compose.ts';
import { config } from '#shared/config.ts';
import { buildOpenApiDocument } from './openapi-document.ts';
import * as routes from './routes.ts';

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

export const handler = httpHandler(routes.openapi, null, async () => {
  document ??= buildOpenApiDocument(config().version);
  return { status: 200, body: document, headers: { 'Cache-Control': 'public, max-age=300' } };
});
