import { webhookDeps } from '#adapters/webhooks/index.ts';
import { updateWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.updateWebhook, async ({ principal, params, body }) => ({
  status: 200,
  body: await updateWebhook(await webhookDeps(), principal, params.webhookId, body),
}));
