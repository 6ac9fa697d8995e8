import { webhookDeps } from '#adapters/webhooks/index.ts';
import { sendTestEvent } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.testWebhook, edgePorts, async ({ principal, params }) => ({
  status: 202,
  body: await sendTestEvent(await webhookDeps(), principal, params.webhookId),
}));
