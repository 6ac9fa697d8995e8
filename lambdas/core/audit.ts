import { ForbiddenError, ValidationError } from './errors.ts';
import { can } from './policy.ts';
import type { Principal } from './principal.ts';

/**
 * The audit log: one entry per state change and per denied attempt (401/403 on an existing route).
 * Entries are append-only; admins read them newest first, in keyset pages over the entry id.
 */
export interface AuditEntry {
  actorId: string | null;
  actorVia: 'token' | 'api-key' | 'anonymous';
  apiKeyId: string | null;
  action: string;
  outcome: 'success' | 'denied';
  status: number;
  targetType: string | null;
  targetId: string | null;
  requestId: string;
  sourceIp: string;
  detail: string | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  occurredAt: Date;
}

export interface AuditQuery {
  beforeId?: string;
  actorId?: string;
  action?: string;
  outcome?: 'success' | 'denied';
  take: number;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<AuditRecord[]>;
}

export function auditActor(
  principal: Principal | null,
): Pick<AuditEntry, 'actorId' | 'actorVia' | 'apiKeyId'> {
  if (!principal) return { actorId: null, actorVia: 'anonymous', apiKeyId: null };
  return { actorId: principal.userId, actorVia: principal.via, apiKeyId: principal.apiKeyId ?? null };
}

export interface AuditView {
  id: string;
  occurredAt: string;
  actor: { id: string | null; via: AuditEntry['actorVia']; apiKeyId: string | null };
  action: string;
  outcome: AuditEntry['outcome'];
  status: number;
  target: { type: string; id: string | null } | null;
  requestId: string;
  sourceIp: string;
  detail: string | null;
}

const toView = (record: AuditRecord): AuditView => ({
  id: record.id,
  occurredAt: record.occurredAt.toISOString(),
  actor: { id: record.actorId, via: record.actorVia, apiKeyId: record.apiKeyId },
  action: record.action,
  outcome: record.outcome,
  status: record.status,
  target: record.targetType ? { type: record.targetType, id: record.targetId } : null,
  requestId: record.requestId,
  sourceIp: record.sourceIp,
  detail: record.detail,
});

const encode = (id: string) => Buffer.from(`audit:${id}`).toString('base64url');
/** Audit ids are Postgres bigints: a longer number is no cursor of ours (400, not a 500). */
const MAX_BIGINT = 9_223_372_036_854_775_807n;
function decode(cursor: string): string {
  const match = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || BigInt(match[1]!) > MAX_BIGINT)
    throw new ValidationError('The cursor is not one this API issued', {
      errors: [{ path: 'query.cursor', message: 'invalid cursor' }],
    });
  return match[1]!;
}

export async function listAudit(
  log: AuditLog,
  principal: Principal,
  request: {
    limit: number;
    cursor?: string | undefined;
    actor?: string | undefined;
    action?: string | undefined;
    outcome?: 'success' | 'denied' | undefined;
  },
): Promise<{ items: AuditView[]; nextCursor: string | null }> {
  if (!can(principal, 'read-audit')) throw new ForbiddenError('Only admins may read the audit log');
  const rows = await log.list({
    ...(request.cursor ? { beforeId: decode(request.cursor) } : {}),
    ...(request.actor ? { actorId: request.actor } : {}),
    ...(request.action ? { action: request.action } : {}),
    ...(request.outcome ? { outcome: request.outcome } : {}),
    take: request.limit + 1,
  });
  const items = rows.slice(0, request.limit);
  const last = items.at(-1);
  return {
    items: items.map(toView),
    nextCursor: rows.length > request.limit && last ? encode(last.id) : null,
  };
}
