import { hashKey } from '#core/api-keys.ts';
import type { Principal } from '#core/principal.ts';

/**
 * Principals of recently presented API keys, per container, for API_KEY_CACHE_SECONDS (default 5): a
 * busy key costs one Postgres lookup per container per window instead of one per request. Only keys
 * that were valid are kept (an unknown or revoked key is looked up every time, and its caller's IP pays
 * the rate limit). The price is the window: a key revoked, or an owner demoted, elsewhere keeps working
 * with what it had in a container that cached it for at most that long (documented in the README).
 * Within one container the cache forgets at once: a revocation or a change of the owner's roles made
 * here drops the entries (the local runtime runs every handler in one process, so there it is exact).
 * Entries are keyed by the key's SHA-256, never the key itself.
 */
interface Entry {
  principal: Principal;
  until: number;
}

const MAX_ENTRIES = 10_000;
const entries = new Map<string, Entry>();

export function cachedKey(presented: string, nowMs = Date.now()): Principal | undefined {
  const hash = hashKey(presented);
  const entry = entries.get(hash);
  if (!entry) return undefined;
  if (entry.until <= nowMs) {
    entries.delete(hash);
    return undefined;
  }
  return entry.principal;
}

export function cacheKey(presented: string, principal: Principal, seconds: number, nowMs = Date.now()): void {
  if (seconds <= 0) return;
  if (entries.size >= MAX_ENTRIES) entries.clear(); // bound a long-lived container's memory
  entries.set(hashKey(presented), { principal, until: nowMs + seconds * 1000 });
}

/** Drops a revoked key's entry. */
export function forgetKey(keyId: string): void {
  for (const [hash, entry] of entries) if (entry.principal.apiKeyId === keyId) entries.delete(hash);
}

/** Drops every key of an owner whose identity or roles just changed. */
export function forgetOwner(userId: string): void {
  for (const [hash, entry] of entries) if (entry.principal.userId === userId) entries.delete(hash);
}
