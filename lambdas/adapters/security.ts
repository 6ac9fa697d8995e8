import { PostgresApiKeyRepository } from './db/api-keys.ts';
import { PostgresAuditLog } from './db/audit.ts';
import { db } from './db/index.ts';

/** The API-key and audit ports wired to Postgres. */
export async function apiKeys() {
  return new PostgresApiKeyRepository(await db());
}

export async function auditLog() {
  return new PostgresAuditLog(await db());
}
