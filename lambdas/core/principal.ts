/** Roles (Cognito groups) and API scopes: defined here once, used by the API schemas, CDK and auth. */
export const roles = ['admin', 'creator', 'viewer'] as const;
export type Role = (typeof roles)[number];
export const scopes = ['videos:read', 'videos:write', 'uploads:write'] as const;
export type Scope = (typeof scopes)[number];
export const allScopes: readonly Scope[] = scopes;

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
