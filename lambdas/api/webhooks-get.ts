import { webhookDeps } from '#adapters/webhooks/index.ts';
import { getWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.getWebhook, async ({ principal, params }) => ({
  status: 200,
  body: await getWebhook(await webhookDeps(), principal, params.webhookId),
}));
