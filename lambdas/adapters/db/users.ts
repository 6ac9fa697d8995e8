import type { Principal } from '#core/principal.ts';
import { forgetOwner } from '../api-key-cache.ts';
import { type Db, sql } from './sql.ts';

/**
 * Mirrors identities into Postgres: a user row is upserted on a principal's first request to this
 * container, and again whenever the token's username or roles change, so videos can reference their
 * owner without a per-request write and API keys can be held to their owner's current roles.
 */
const remembered = new Set<string>();

export async function rememberUser(db: Db, principal: Principal): Promise<void> {
  // An API key's roles are derived from the owner's; only a token speaks for the user's own.
  const roles = principal.via === 'token' ? [...principal.roles].sort() : undefined;
  const seen = `${principal.userId}\n${principal.username}\n${roles?.join(',') ?? '-'}`;
  if (remembered.has(seen)) return;
  // A key's request leaves the roles as they are (null for a user only ever seen through keys).
  await db.run(
    sql`insert into users (id, username, last_seen_at ${roles ? sql`, roles` : sql``})
        values (${principal.userId}, ${principal.username}, now() ${roles ? sql`, ${roles}` : sql``})
        on conflict (id) do update set username = excluded.username, last_seen_at = excluded.last_seen_at
        ${roles ? sql`, roles = excluded.roles` : sql``}`,
  );
  // Keys act with their owner's current roles: this container's cached keys of the owner are stale now.
  if (roles) forgetOwner(principal.userId);
  if (remembered.size >= 10_000) remembered.clear(); // bound a long-lived container's memory
  remembered.add(seen);
}
