import { webhookDeps } from '#adapters/webhooks/index.ts';
import { rotateWebhookSecret } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.rotateWebhookSecret, async ({ principal, params }) => ({
  status: 200,
  body: await rotateWebhookSecret(await webhookDeps(), principal, params.webhookId),
}));
