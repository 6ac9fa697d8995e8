import { webhookDeps } from '#adapters/webhooks/index.ts';
import { listWebhooks } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listWebhooks, edgePorts, async ({ principal, query }) => ({
  status: 200,
  body: await listWebhooks(await webhookDeps(), principal, query),
}));
