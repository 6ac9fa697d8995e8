import { webhookDeps } from '#adapters/webhooks/index.ts';
import { listWebhooks } from '#core/webhooks.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.listWebhooks, async ({ principal, query }) => ({
  status: 200,
  body: await listWebhooks(await webhookDeps(), principal, query),
}));
