import { catalog } from '#adapters/catalog.ts';
import { updateVideo } from '#core/videos.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.updateVideo, edgePorts, async ({ principal, params, body }) => ({
  status: 200,
  body: await updateVideo(await catalog(), principal, params.videoId, body),
}));
