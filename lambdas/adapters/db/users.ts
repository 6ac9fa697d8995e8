import { type Kysely, sql } from 'kysely';
import type { Principal } from '#core/principal.ts';
import type { Database } from './schema.ts';

/**
 * Mirrors identities into Postgres: a user row is upserted on a principal's first request to this
 * container (and its username refreshed), so videos can reference their owner without a per-request write.
 */
const remembered = new Set<string>();

export async function rememberUser(db: Kysely<Database>, principal: Principal): Promise<void> {
  if (remembered.has(principal.userId)) return;
  await db
    .insertInto('users')
    .values({ id: principal.userId, username: principal.username, last_seen_at: sql`now()` })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ username: principal.username, last_seen_at: sql`now()` }),
    )
    .execute();
  if (remembered.size >= 10_000) remembered.clear(); // bound a long-lived container's memory
  remembered.add(principal.userId);
}
