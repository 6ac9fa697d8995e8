import { catalog } from '#adapters/catalog.ts';
import { deleteVideo } from '#core/videos.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.deleteVideo, async ({ principal, params }) => {
  await deleteVideo(await catalog(), principal, params.videoId);
  return { status: 204 };
});
