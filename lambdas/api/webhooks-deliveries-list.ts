import { webhookDeps } from '#adapters/webhooks/index.ts';
import { listDeliveries } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.listWebhookDeliveries, async ({ principal, params, query }) => ({
  status: 200,
  body: await listDeliveries(await webhookDeps(), principal, params.webhookId, query),
}));
