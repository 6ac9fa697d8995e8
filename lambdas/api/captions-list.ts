import { captionDeps } from '#adapters/captions.ts';
import { listCaptions } from '#core/captions.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listCaptions, edgePorts, async ({ principal, params }) => ({
  status: 200,
  body: await listCaptions(await captionDeps(), principal, params.videoId),
}));
