import { webhookDeps } from '#adapters/webhooks/index.ts';
import { sendTestEvent } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.testWebhook, async ({ principal, params }) => ({
  status: 202,
  body: await sendTestEvent(await webhookDeps(), principal, params.webhookId),
}));
