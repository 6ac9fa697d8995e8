import { apiKeys } from '#adapters/security.ts';
import { listApiKeys } from '#core/api-keys.ts';
import { httpHandler } from '#shared/http.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.listApiKeys, async ({ principal }) => ({
  status: 200,
  body: { items: await listApiKeys(await apiKeys(), principal) },
}));
