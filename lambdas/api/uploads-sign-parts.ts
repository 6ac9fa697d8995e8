import { uploadDeps } from '#adapters/uploads.ts';
import { signParts } from '#core/uploads.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.signParts, async ({ principal, params, body }) => ({
  status: 200,
  body: await signParts(await uploadDeps(), principal, params.uploadId, body.partNumbers),
}));
