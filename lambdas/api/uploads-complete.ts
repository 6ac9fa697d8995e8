import { uploadDeps } from '#adapters/uploads.ts';
import { completeUpload } from '#core/uploads.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.completeUpload, async ({ principal, params, body }) => ({
  status: 202,
  body: await completeUpload(await uploadDeps(), principal, params.uploadId, body.parts),
}));
