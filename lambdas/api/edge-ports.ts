import { authenticate } from '#adapters/auth.ts';
import { PostgresAuditLog } from '#adapters/db/audit.ts';
import { db } from '#adapters/db/index.ts';
import { rememberUser } from '#adapters/db/users.ts';
import { rateLimiter } from '#adapters/rate-limit.ts';
import type { EdgePorts } from '#http/ports.ts';

/**
 * The edge's ports for authenticated routes, on the real adapters: Cognito tokens and API keys
 * (Postgres), the user mirror and the audit log (Postgres), token buckets (DynamoDB state table).
 * Public routes never import this module, so their bundles hold none of it.
 */
export const edgePorts: EdgePorts = {
  authenticate,
  rememberUser: async (principal) => rememberUser(await db(), principal),
  rateLimiter,
  appendAudit: async (entry) => new PostgresAuditLog(await db()).append(entry),
};
