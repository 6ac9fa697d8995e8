import type { WebhookDeps } from '#core/webhooks.ts';
import { config } from '#shared/config.ts';
import { db } from '../db/index.ts';
import { PostgresWebhooks } from '../db/webhooks.ts';
import { dispatchSoon } from './dispatch.ts';
import { resolveHost } from './http.ts';

/** The webhook API's ports: Postgres, the DNS (for the URL rules), and the dispatcher's fast path. */
export async function webhookDeps(): Promise<WebhookDeps> {
  return {
    repo: new PostgresWebhooks(await db()),
    policy: { allowLoopbackHttp: config().webhooks.allowLoopbackHttp },
    resolve: resolveHost,
    dispatch: dispatchSoon,
  };
}
