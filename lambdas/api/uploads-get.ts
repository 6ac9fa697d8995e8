import { uploadDeps } from '#adapters/uploads.ts';
import { describeUpload } from '#core/uploads.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.getUpload, async ({ principal, params }) => ({
  status: 200,
  body: await describeUpload(await uploadDeps(), principal, params.uploadId),
}));
