import type { Kysely } from 'kysely';
import type { AuditEntry, AuditLog, AuditQuery, AuditRecord } from '#core/audit.ts';
import type { Database } from './schema.ts';

/** The audit log in Postgres: inserts only, listed newest first by id. */
export class PostgresAuditLog implements AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        actor_id: entry.actorId,
        actor_via: entry.actorVia,
        api_key_id: entry.apiKeyId,
        action: entry.action,
        outcome: entry.outcome,
        status: entry.status,
        target_type: entry.targetType,
        target_id: entry.targetId,
        request_id: entry.requestId,
        source_ip: entry.sourceIp,
        detail: entry.detail,
      })
      .execute();
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    let select = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(query.take);
    if (query.beforeId) select = select.where('id', '<', query.beforeId);
    if (query.actorId) select = select.where('actor_id', '=', query.actorId);
    if (query.action) select = select.where('action', '=', query.action);
    if (query.outcome) select = select.where('outcome', '=', query.outcome);
    const rows = await select.execute();
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
