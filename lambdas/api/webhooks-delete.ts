import { webhookDeps } from '#adapters/webhooks/index.ts';
import { deleteWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.deleteWebhook, edgePorts, async ({ principal, params }) => {
  await deleteWebhook(await webhookDeps(), principal, params.webhookId);
  return { status: 204 };
});
