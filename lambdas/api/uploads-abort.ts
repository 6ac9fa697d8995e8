import { uploadDeps } from '#adapters/uploads.ts';
import { abortUpload } from '#core/uploads.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.abortUpload, async ({ principal, params }) => {
  await abortUpload(await uploadDeps(), principal, params.uploadId);
  return { status: 204 };
});
