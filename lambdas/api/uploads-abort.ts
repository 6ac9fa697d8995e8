import { uploadDeps } from '#adapters/uploads.ts';
import { abortUpload } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.abortUpload, edgePorts, async ({ principal, params }) => {
  await abortUpload(await uploadDeps(), principal, params.uploadId);
  return { status: 204 };
});
