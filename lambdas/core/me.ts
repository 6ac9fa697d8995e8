import { hasScope } from './policy.ts';
import type { Scope } from './principal.ts';
import { allScopes, type Principal } from './principal.ts';
import { describeQuota, type QuotaLimits, type StorageUsage } from './quota.ts';

const scopeAction: Record<Scope, 'read' | 'update' | 'upload'> = {
  'videos:read': 'read',
  'videos:write': 'update',
  'uploads:write': 'upload',
};

/** The caller as `GET /v1/me` shows it: the scopes listed are the ones its role and credential both allow. */
export function describePrincipal(principal: Principal) {
  const roleScopes: readonly Scope[] =
    principal.roles.includes('admin') || principal.roles.includes('creator') ? allScopes : ['videos:read'];
  return {
    id: principal.userId,
    username: principal.username,
    roles: principal.roles,
    scopes: roleScopes.filter((scope) => hasScope(principal, scopeAction[scope])),
  };
}

/** `GET /v1/me`: the caller, and their storage quota (what they store, and the limit; null when unlimited). */
export async function describeMe(deps: { usage: StorageUsage; limits: QuotaLimits }, principal: Principal) {
  return { ...describePrincipal(principal), quota: await describeQuota(deps.usage, principal, deps.limits) };
}
