import type { Scope } from '#api/route-spec.ts';

export const roles = ['admin', 'creator', 'viewer'] as const;
export type Role = (typeof roles)[number];
export const allScopes: readonly Scope[] = ['videos:read', 'videos:write', 'uploads:write'];

/** Who is calling, as core sees it: no tokens, no headers. */
export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  /** The API scopes the credential carries; `null` when it carries none, so only the role limits it. */
  scopes: Scope[] | null;
  via: 'token' | 'api-key';
  /** Set when `via` is `api-key`: which key, for the audit log. */
  apiKeyId?: string;
}
