import { webhookDeps } from '#adapters/webhooks/index.ts';
import { updateWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.updateWebhook, edgePorts, async ({ principal, params, body }) => ({
  status: 200,
  body: await updateWebhook(await webhookDeps(), principal, params.webhookId, body),
}));
