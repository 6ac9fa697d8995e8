import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError } from './errors.ts';
import { can } from './policy.ts';
import type { Scope } from './principal.ts';
import { allScopes, type Principal, type Role } from './principal.ts';

/**
 * API keys for server-to-server callers. A key is `vck_<prefix>_<secret>`: the prefix (12 random
 * base62-ish chars) is shown in listings and is how a presented key is found; the secret is 32 random
 * bytes. Only SHA-256 of the whole key is stored (a 256-bit random secret needs no slow KDF), and the
 * comparison is constant-time. A key acts as its owner, with the roles the owner had when it was made,
 * narrowed to its scopes. A revocation applies at once in the container that makes it and within
 * API_KEY_CACHE_SECONDS everywhere else (lambdas/adapters/api-key-cache.ts).
 */
export interface ApiKeyRecord {
  id: string;
  ownerId: string;
  ownerName: string;
  /** The roles of the owner's latest token; null when not known (not seen since migration 0004). */
  ownerRoles: Role[] | null;
  name: string;
  prefix: string;
  secretHash: string;
  scopes: Scope[];
  roles: Role[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface ApiKeyRepository {
  insert(
    key: Omit<ApiKeyRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'ownerName' | 'ownerRoles'>,
  ): Promise<ApiKeyRecord>;
  findByPrefix(prefix: string): Promise<ApiKeyRecord | undefined>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  /** Active (unrevoked) keys of one owner, newest first. */
  listActive(ownerId: string): Promise<ApiKeyRecord[]>;
  countActive(ownerId: string): Promise<number>;
  /** Marks the key revoked; false when it already was. */
  revoke(id: string): Promise<boolean>;
  touch(id: string): Promise<void>;
}

export const MAX_ACTIVE_KEYS = 25;
const KEY_PATTERN = /^vck_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  lastUsedAt: string | null;
}

const toView = (key: ApiKeyRecord): ApiKeyView => ({
  id: key.id,
  name: key.name,
  prefix: `vck_${key.prefix}`,
  scopes: key.scopes,
  createdAt: key.createdAt.toISOString(),
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
});

/** The scopes a principal may itself use: those its roles allow, narrowed by its credential's scopes. */
export function effectiveScopes(principal: Principal): Scope[] {
  const byRole = new Set<Scope>(['videos:read']);
  if (principal.roles.includes('admin') || principal.roles.includes('creator')) {
    byRole.add('videos:write');
    byRole.add('uploads:write');
  }
  return allScopes.filter(
    (scope) => byRole.has(scope) && (principal.scopes === null || principal.scopes.includes(scope)),
  );
}

export const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

function assertMayManage(principal: Principal) {
  if (principal.via === 'api-key')
    throw new ForbiddenError('API keys cannot manage API keys; use a user token');
  if (!can(principal, 'manage-api-keys'))
    throw new ForbiddenError('Only creators and admins may use API keys');
}

export async function createApiKey(
  repo: ApiKeyRepository,
  principal: Principal,
  input: { name: string; scopes: Scope[] },
): Promise<ApiKeyView & { key: string }> {
  assertMayManage(principal);
  const allowed = effectiveScopes(principal);
  const excess = input.scopes.filter((scope) => !allowed.includes(scope));
  if (excess.length > 0) {
    throw new ForbiddenError(`A key cannot carry scopes you do not have: ${excess.join(', ')}`);
  }
  if ((await repo.countActive(principal.userId)) >= MAX_ACTIVE_KEYS) {
    throw new ConflictError(`You already have ${MAX_ACTIVE_KEYS} active API keys; revoke one first`);
  }
  const prefix = randomBytes(12)
    .toString('base64')
    .replaceAll(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 12);
  const key = `vck_${prefix}_${randomBytes(32).toString('base64url')}`;
  const record = await repo.insert({
    id: crypto.randomUUID(),
    ownerId: principal.userId,
    name: input.name,
    prefix,
    secretHash: hashKey(key),
    scopes: [...new Set(input.scopes)],
    roles: principal.roles,
  });
  return { ...toView(record), key };
}

export async function listApiKeys(repo: ApiKeyRepository, principal: Principal): Promise<ApiKeyView[]> {
  assertMayManage(principal);
  return (await repo.listActive(principal.userId)).map(toView);
}

/** Owner or admin. Someone else's key is "not found", never "forbidden". */
export async function revokeApiKey(repo: ApiKeyRepository, principal: Principal, id: string): Promise<void> {
  assertMayManage(principal);
  const key = UUID.test(id) ? await repo.findById(id) : undefined;
  const mine = key && (key.ownerId === principal.userId || principal.roles.includes('admin'));
  if (!key || !mine || key.revokedAt) throw new NotFoundError(`No API key with id ${id}`);
  await repo.revoke(id);
}

/** The principal a presented key stands for, or null when the key is malformed, unknown or revoked. */
export async function principalForKey(repo: ApiKeyRepository, presented: string): Promise<Principal | null> {
  const match = KEY_PATTERN.exec(presented);
  if (!match) return null;
  const record = await repo.findByPrefix(match[1]!);
  const expected = Buffer.from(record?.secretHash ?? hashKey('vck_missing'), 'hex');
  const ok = timingSafeEqual(Buffer.from(hashKey(presented), 'hex'), expected);
  if (!record || !ok || record.revokedAt) return null;
  await repo.touch(record.id);
  return {
    userId: record.ownerId,
    username: record.ownerName,
    // Never more than the owner has today: a demoted creator's keys stop creating uploads at once.
    roles: record.ownerRoles
      ? record.roles.filter((role) => record.ownerRoles!.includes(role))
      : record.roles,
    scopes: record.scopes,
    via: 'api-key',
    apiKeyId: record.id,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
