import { quotaDeps } from '#adapters/uploads.ts';
import { describeMe } from '#core/me.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.me, async ({ principal }) => ({
  status: 200,
  body: await describeMe(await quotaDeps(), principal),
}));
