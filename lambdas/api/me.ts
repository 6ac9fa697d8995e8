import { quotaDeps } from '#adapters/quota.ts';
import { describeMe } from '#core/me.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.me, edgePorts, async ({ principal }) => ({
  status: 200,
  body: await describeMe(await quotaDeps(), principal),
}));
