import { apiKeys } from '#adapters/security.ts';
import { createApiKey } from '#core/api-keys.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.createApiKey, async ({ principal, body }) => ({
  status: 201,
  body: await createApiKey(await apiKeys(), principal, body),
}));
