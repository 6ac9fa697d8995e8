import { type Kysely, sql } from 'kysely';
import type { Principal } from '#core/principal.ts';
import { forgetOwner } from '../api-key-cache.ts';
import type { Database } from './schema.ts';

/**
 * Mirrors identities into Postgres: a user row is upserted on a principal's first request to this
 * container, and again whenever the token's username or roles change, so videos can reference their
 * owner without a per-request write and API keys can be held to their owner's current roles.
 */
const remembered = new Set<string>();

export async function rememberUser(db: Kysely<Database>, principal: Principal): Promise<void> {
  // An API key's roles are derived from the owner's; only a token speaks for the user's own.
  const roles = principal.via === 'token' ? [...principal.roles].sort() : undefined;
  const seen = `${principal.userId}\n${principal.username}\n${roles?.join(',') ?? '-'}`;
  if (remembered.has(seen)) return;
  const identity = {
    username: principal.username,
    last_seen_at: sql<Date>`now()`,
    ...(roles ? { roles } : {}),
  };
  await db
    .insertInto('users')
    .values({ id: principal.userId, ...identity })
    .onConflict((oc) => oc.column('id').doUpdateSet(identity))
    .execute();
  // Keys act with their owner's current roles: this container's cached keys of the owner are stale now.
  if (roles) forgetOwner(principal.userId);
  if (remembered.size >= 10_000) remembered.clear(); // bound a long-lived container's memory
  remembered.add(seen);
}
