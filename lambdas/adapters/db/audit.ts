import type { Selectable } from 'kysely';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '#core/audit.ts';
import type { AuditLogTable } from './schema.ts';
import { type Db, insertValues, sql, where } from './sql.ts';

/**
 * Attacker-chosen text (a path id, a header) as Postgres text can hold it: NUL, which Postgres refuses,
 * becomes U+FFFD, so the attempt is still recorded rather than lost with the failed insert.
 */
function storable<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' ? value.replaceAll('\0', '\uFFFD') : value) as T;
}

/** The audit log in Postgres: inserts only, listed newest first by id. */
export class PostgresAuditLog implements AuditLog {
  constructor(private readonly db: Db) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db.run(
      sql`insert into audit_log ${insertValues({
        actor_id: storable(entry.actorId),
        actor_via: entry.actorVia,
        api_key_id: entry.apiKeyId,
        action: storable(entry.action)!,
        outcome: entry.outcome,
        status: entry.status,
        target_type: entry.targetType,
        target_id: storable(entry.targetId),
        request_id: storable(entry.requestId)!,
        source_ip: storable(entry.sourceIp)!,
        detail: storable(entry.detail),
      })}`,
    );
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const rows = await this.db.all<Selectable<AuditLogTable>>(
      sql`select * from audit_log ${where([
        query.beforeId ? sql`id < ${query.beforeId}` : undefined,
        query.actorId ? sql`actor_id = ${query.actorId}` : undefined,
        query.action ? sql`action = ${query.action}` : undefined,
        query.outcome ? sql`outcome = ${query.outcome}` : undefined,
      ])} order by id desc limit ${query.take}`,
    );
    return rows.map((row) => ({
      id: String(row.id),
      occurredAt: new Date(row.occurred_at),
      actorId: row.actor_id,
      actorVia: row.actor_via,
      apiKeyId: row.api_key_id,
      action: row.action,
      outcome: row.outcome,
      status: row.status,
      targetType: row.target_type,
      targetId: row.target_id,
      requestId: row.request_id,
      sourceIp: row.source_ip,
      detail: row.detail,
    }));
  }
}
