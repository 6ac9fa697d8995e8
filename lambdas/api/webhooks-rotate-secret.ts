import { webhookDeps } from '#adapters/webhooks/index.ts';
import { rotateWebhookSecret } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.rotateWebhookSecret, edgePorts, async ({ principal, params }) => ({
  status: 200,
  body: await rotateWebhookSecret(await webhookDeps(), principal, params.webhookId),
}));
