import { uploadDeps } from '#adapters/uploads.ts';
import { createUpload } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createUpload, edgePorts, async ({ principal, body }) => {
  const created = await createUpload(await uploadDeps(), principal, body);
  // Relative to the request URL (…/v1/uploads), so it holds under any stage or base path prefix.
  return { status: 201, body: created, headers: { Location: `uploads/${created.uploadId}` } };
});
