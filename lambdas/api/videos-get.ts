import { catalog } from '#adapters/catalog.ts';
import { getVideo } from '#core/videos.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.getVideo, async ({ principal, params }) => ({
  status: 200,
  body: await getVideo(await catalog(), principal, params.videoId),
}));
