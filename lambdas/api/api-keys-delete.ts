import { apiKeys } from '#adapters/security.ts';
import { revokeApiKey } from '#core/api-keys.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.revokeApiKey, edgePorts, async ({ principal, params }) => {
  await revokeApiKey(await apiKeys(), principal, params.keyId);
  return { status: 204 };
});
