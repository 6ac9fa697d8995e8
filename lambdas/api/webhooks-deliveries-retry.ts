import { webhookDeps } from '#adapters/webhooks/index.ts';
import { retryDelivery } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.retryWebhookDelivery, edgePorts, async ({ principal, params }) => {
  await retryDelivery(await webhookDeps(), principal, params.webhookId, params.deliveryId);
  return { status: 202 };
});
