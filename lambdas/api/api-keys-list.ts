import { apiKeys } from '#adapters/security.ts';
import { listApiKeys } from '#core/api-keys.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listApiKeys, edgePorts, async ({ principal }) => ({
  status: 200,
  body: { items: await listApiKeys(await apiKeys(), principal) },
}));
