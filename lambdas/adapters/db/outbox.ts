import { type OutboxTopic, outboxQueues } from '#shared/resources.ts';
import { type Db, sql } from './sql.ts';

/**
 * The transactional outbox (migration 0005): a state change writes what it owes other systems into
 * `outbox` in its own transaction; the relay below hands pending rows to their queue and marks them
 * published. Delivery is at least once (a crash after the send and before the commit sends again), so
 * every consumer is idempotent.
 */
export async function enqueueOutbox(tx: Db, topic: OutboxTopic, payload: unknown) {
  await tx.run(sql`insert into outbox (topic, payload) values (${topic}, ${JSON.stringify(payload)})`);
}

export type SendBatch = (queue: (typeof outboxQueues)[OutboxTopic], bodies: unknown[]) => Promise<void>;

export class OutboxRelay {
  constructor(
    private readonly db: Db,
    private readonly send: SendBatch,
  ) {}

  /**
   * Publishes up to `limit` pending rows (of `topics`, else every topic), oldest first, and returns how
   * many. Rows another relay holds
   * are skipped (SKIP LOCKED), so the API's fast path and the scheduled relay never send a row twice at
   * once; a failed send leaves its rows pending for the next run.
   */
  async publishPending(limit = 100, topics?: readonly OutboxTopic[]): Promise<number> {
    return this.db.transaction(async (tx) => {
      // A function may send only to the queues of the topics it writes (least privilege).
      const rows = await tx.all<{ id: number; topic: string; payload: unknown }>(
        sql`select id, topic, payload from outbox where published_at is null
            ${topics ? sql`and topic = any(${[...topics]})` : sql``}
            order by id limit ${limit} for update skip locked`,
      );
      if (rows.length === 0) return 0;
      const byQueue = new Map<(typeof outboxQueues)[OutboxTopic], unknown[]>();
      for (const row of rows) {
        const queue = outboxQueues[row.topic as OutboxTopic];
        if (!queue) throw new Error(`outbox row ${row.id} has an unknown topic "${row.topic}"`);
        byQueue.set(queue, [...(byQueue.get(queue) ?? []), row.payload]);
      }
      for (const [queue, bodies] of byQueue) await this.send(queue, bodies);
      await tx.run(sql`update outbox set published_at = now() where id = any(${rows.map((row) => row.id)})`);
      return rows.length;
    });
  }

  /**
   * Removes up to `limit` rows published more than `retentionDays` ago, oldest first; returns how many.
   * Small batches: a relay run never holds a long delete, and a backlog drains over a few runs.
   */
  async prunePublished(retentionDays: number, limit = 1000): Promise<number> {
    return this.db.run(
      sql`delete from outbox where id in (
            select id from outbox where published_at < now() - make_interval(days => ${retentionDays})
            order by published_at limit ${limit})`,
    );
  }

  /** Rows not yet published: what the relay still owes (tests, diagnostics). */
  async pending(): Promise<number> {
    const row = await this.db.first<{ count: number }>(
      sql`select count(*)::int as count from outbox where published_at is null`,
    );
    return Number(row?.count ?? 0);
  }
}
