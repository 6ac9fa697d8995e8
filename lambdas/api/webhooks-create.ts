import { webhookDeps } from '#adapters/webhooks/index.ts';
import { createWebhook } from '#core/webhooks.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createWebhook, edgePorts, async ({ principal, body }) => {
  const created = await createWebhook(await webhookDeps(), principal, body);
  // Relative to the request URL (…/v1/webhooks), so it holds under any stage or base path prefix.
  return { status: 201, body: created, headers: { Location: `webhooks/${created.id}` } };
});
