import { catalog } from '#adapters/catalog.ts';
import { listVideos } from '#core/videos.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.listVideos, async ({ principal, query }) => ({
  status: 200,
  body: await listVideos(await catalog(), principal, query),
}));
