import { CognitoJwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { principalForKey } from '#core/api-keys.ts';
import { UnauthorizedError } from '#core/errors.ts';
import type { Scope } from '#core/principal.ts';
import { allScopes, type Principal, type Role, roles } from '#core/principal.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { cachedKey, cacheKey } from './api-key-cache.ts';
import { PostgresApiKeyRepository } from './db/api-keys.ts';
import { db } from './db/index.ts';

/**
 * Bearer-token authentication. In the cloud the verifier fetches the user pool's JWKS once and caches
 * it for the container's life; the local runtime hands it the local issuer's JWKS inline, and then the
 * very same Cognito verifier checks the local tokens (issuer, `token_use: access`, `client_id`, expiry,
 * signature). No key is ever fetched when a JWKS is given inline, so an unknown `kid` fails closed.
 */
function buildVerifier() {
  const { userPoolId, clientId, inlineJwks } = config().auth;
  const props = { userPoolId, clientId, tokenUse: 'access' as const, customJwtCheck: checkTimeClaims };
  if (!inlineJwks) return CognitoJwtVerifier.create(props);
  const verifier = CognitoJwtVerifier.create(props, {
    jwksCache: new SimpleJwksCache({
      fetcher: {
        fetch: async () => {
          throw new Error('this deployment verifies tokens against an inline JWKS only');
        },
      },
    }),
  });
  verifier.cacheJwks(JSON.parse(inlineJwks) as Jwks);
  return verifier;
}

/** How far the issuer's clock may run ahead of ours. */
export const CLOCK_SKEW_SECONDS = 300;
/** Cognito issues access tokens valid for 5 minutes to 1 day; nothing valid for longer is one of its. */
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/**
 * Defence in depth over aws-jwt-verify, which checks `exp` and `nbf` only when present: an access token
 * must say when it expires, not expire further out than Cognito ever allows, and not claim to have been
 * issued (`iat`) in the future beyond a small clock skew.
 */
export function checkTimeClaims({ payload }: { payload: Record<string, unknown> }): void {
  const now = Date.now() / 1000;
  if (typeof payload.exp !== 'number') throw new Error('the token has no expiry (exp)');
  if (payload.exp > now + MAX_TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS)
    throw new Error('the token expires later than any access token is issued for');
  if (
    payload.iat !== undefined &&
    (typeof payload.iat !== 'number' || payload.iat > now + CLOCK_SKEW_SECONDS)
  )
    throw new Error('the token was issued in the future (iat)');
}

let verifier: ReturnType<typeof buildVerifier> | undefined;

/**
 * Returns the caller, `null` when no credential was sent, and throws 401 for a bad one. An `X-Api-Key`
 * header is accepted wherever a bearer token is; a valid key's principal is kept for a few seconds per
 * container (api-key-cache.ts: revocation elsewhere applies within that window).
 */
export async function authenticate(headers: Record<string, string>): Promise<Principal | null> {
  const authorization = headers.authorization;
  const apiKey = headers['x-api-key'];
  if (apiKey !== undefined) {
    if (authorization)
      throw new UnauthorizedError('Send either a bearer token or an API key, not both', 'invalid_request');
    const presented = apiKey.trim();
    const cached = cachedKey(presented);
    if (cached) return cached;
    const principal = await principalForKey(new PostgresApiKeyRepository(await db()), presented);
    if (!principal) throw new UnauthorizedError('The API key is invalid or revoked');
    cacheKey(presented, principal, config().auth.apiKeyCacheSeconds);
    return principal;
  }
  if (!authorization) return null;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization);
  if (!match)
    throw new UnauthorizedError(
      'The Authorization header must be "Bearer <access token>"',
      'invalid_request',
    );
  verifier ??= buildVerifier();
  try {
    const payload = await verifier.verify(match[1]!);
    return principalFromClaims(payload, config().auth.scopePrefix);
  } catch (error) {
    logger.info('token rejected', { reason: (error as Error).name });
    throw new UnauthorizedError('The access token is invalid or expired');
  }
}

/** Maps Cognito access-token claims to a principal: groups -> roles, resource-server scopes -> API scopes. */
export function principalFromClaims(claims: Record<string, unknown>, scopePrefix: string): Principal {
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]) : [];
  const granted = roles.filter((role) => groups.includes(role));
  const scopeClaim = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  const apiScopes = scopeClaim
    .map((scope) => (scope.startsWith(scopePrefix) ? scope.slice(scopePrefix.length) : scope))
    .filter((scope): scope is Scope => (allScopes as readonly string[]).includes(scope));
  return {
    userId: String(claims.sub),
    username: typeof claims.username === 'string' ? claims.username : String(claims.sub),
    roles: granted.length > 0 ? granted : (['viewer'] satisfies Role[]),
    scopes: apiScopes.length > 0 ? apiScopes : null,
    via: 'token',
  };
}
