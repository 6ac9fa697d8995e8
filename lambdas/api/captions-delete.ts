import { captionDeps } from '#adapters/captions.ts';
import { deleteCaption } from '#core/captions.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.deleteCaption, async ({ principal, params }) => {
  await deleteCaption(await captionDeps(), principal, params.videoId, params.captionId);
  return { status: 204 };
});
