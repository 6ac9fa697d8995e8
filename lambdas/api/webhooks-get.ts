import { webhookDeps } from '#adapters/webhooks/index.ts';
import { getWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.getWebhook, edgePorts, async ({ principal, params }) => ({
  status: 200,
  body: await getWebhook(await webhookDeps(), principal, params.webhookId),
}));
