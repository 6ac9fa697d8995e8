import { captionDeps } from '#adapters/captions.ts';
import { deleteCaption } from '#core/captions.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.deleteCaption, edgePorts, async ({ principal, params }) => {
  await deleteCaption(await captionDeps(), principal, params.videoId, params.captionId);
  return { status: 204 };
});
