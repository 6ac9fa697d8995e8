import { uploadDeps } from '#adapters/uploads.ts';
import { signParts } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.signParts, edgePorts, async ({ principal, params, body }) => ({
  status: 200,
  body: await signParts(await uploadDeps(), principal, params.uploadId, body.partNumbers),
}));
