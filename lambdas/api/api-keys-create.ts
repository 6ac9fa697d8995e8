import { apiKeys } from '#adapters/security.ts';
import { createApiKey } from '#core/api-keys.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.createApiKey, edgePorts, async ({ principal, body }) => ({
  status: 201,
  body: await createApiKey(await apiKeys(), principal, body),
}));
