import { deletionDeps } from '#adapters/video-deletion.ts';
import { deleteVideo } from '#core/videos.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.deleteVideo, edgePorts, async ({ principal, params }) => {
  await deleteVideo(await deletionDeps(), principal, params.videoId);
  return { status: 204 };
});
