import { captionDeps } from '#adapters/captions.ts';
import { createCaption } from '#core/captions.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.createCaption, async ({ principal, params, body }) => ({
  status: 201,
  body: await createCaption(await captionDeps(), principal, params.videoId, body),
}));
