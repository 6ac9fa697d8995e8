import { apiKeys } from '#adapters/security.ts';
import { revokeApiKey } from '#core/api-keys.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.revokeApiKey, async ({ principal, params }) => {
  await revokeApiKey(await apiKeys(), principal, params.keyId);
  return { status: 204 };
});
