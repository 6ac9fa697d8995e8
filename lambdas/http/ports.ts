import type { AuditEntry } from '#core/audit.ts';
import type { Principal } from '#core/principal.ts';
import type { RateLimiter } from '#core/rate-limit.ts';

/**
 * What the edge middlewares need from the outside, injected by each handler (lambdas/api/edge-ports.ts
 * wires the real adapters): lambdas/http never imports an adapter, so a route that declares no
 * authentication bundles none of them.
 */
export interface EdgePorts {
  /** The caller, `null` when no credential was sent; throws UnauthorizedError for a bad one. */
  authenticate(headers: Record<string, string>): Promise<Principal | null>;
  /** Mirrors an authenticated caller into the user store. */
  rememberUser(principal: Principal): Promise<void>;
  /** The rate limiter, built on first use. */
  rateLimiter(): RateLimiter;
  /** Appends one audit entry. */
  appendAudit(entry: AuditEntry): Promise<void>;
}
