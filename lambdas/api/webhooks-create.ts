import { webhookDeps } from '#adapters/webhooks/index.ts';
import { createWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.createWebhook, edgePorts, async ({ principal, body }) => ({
  status: 201,
  body: await createWebhook(await webhookDeps(), principal, body),
}));
