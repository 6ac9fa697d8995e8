import { webhookDeps } from '#adapters/webhooks/index.ts';
import { createWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.createWebhook, async ({ principal, body }) => ({
  status: 201,
  body: await createWebhook(await webhookDeps(), principal, body),
}));
