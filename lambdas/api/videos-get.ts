import { catalog } from '#adapters/catalog.ts';
import { getVideo } from '#core/videos.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.getVideo, edgePorts, async ({ principal, params }) => ({
  status: 200,
  body: await getVideo(await catalog(), principal, params.videoId),
}));
