import { webhookDeps } from '#adapters/webhooks/index.ts';
import { listDeliveries } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(
  routes.listWebhookDeliveries,
  edgePorts,
  async ({ principal, params, query }) => ({
    status: 200,
    body: await listDeliveries(await webhookDeps(), principal, params.webhookId, query),
  }),
);
