import { catalog } from '#adapters/catalog.ts';
import { listVideos } from '#core/videos.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listVideos, edgePorts, async ({ principal, query }) => ({
  status: 200,
  body: await listVideos(await catalog(), principal, query),
}));
