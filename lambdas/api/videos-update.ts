import { catalog } from '#adapters/catalog.ts';
import { updateVideo } from '#core/videos.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.updateVideo, async ({ principal, params, body }) => ({
  status: 200,
  body: await updateVideo(await catalog(), principal, params.videoId, body),
}));
