import { uploadDeps } from '#adapters/uploads.ts';
import { describeUpload } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.getUpload, edgePorts, async ({ principal, params }) => ({
  status: 200,
  body: await describeUpload(await uploadDeps(), principal, params.uploadId),
}));
