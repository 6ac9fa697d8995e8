import { uploadDeps } from '#adapters/uploads.ts';
import { completeUpload } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.completeUpload, edgePorts, async ({ principal, params, body }) => ({
  status: 202,
  body: await completeUpload(await uploadDeps(), principal, params.uploadId, body.parts),
}));
