import { captionDeps } from '#adapters/captions.ts';
import { createCaption } from '#core/captions.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createCaption, edgePorts, async ({ principal, params, body }) => ({
  status: 201,
  body: await createCaption(await captionDeps(), principal, params.videoId, body),
}));
