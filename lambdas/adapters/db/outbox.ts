import { type Kysely, sql, type Transaction } from 'kysely';
import { type OutboxTopic, outboxQueues } from '#shared/resources.ts';
import type { Database } from './schema.ts';

/**
 * The transactional outbox (migration 0005): a state change writes what it owes other systems into
 * `outbox` in its own transaction; the relay below hands pending rows to their queue and marks them
 * published. Delivery is at least once (a crash after the send and before the commit sends again), so
 * every consumer is idempotent.
 */
export async function enqueueOutbox(tx: Transaction<Database>, topic: OutboxTopic, payload: unknown) {
  await tx
    .insertInto('outbox')
    .values({ topic, payload: JSON.stringify(payload) })
    .execute();
}

export type SendBatch = (queue: (typeof outboxQueues)[OutboxTopic], bodies: unknown[]) => Promise<void>;

export class OutboxRelay {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly send: SendBatch,
  ) {}

  /**
   * Publishes up to `limit` pending rows (of `topics`, else every topic), oldest first, and returns how
   * many. Rows another relay holds
   * are skipped (SKIP LOCKED), so the API's fast path and the scheduled relay never send a row twice at
   * once; a failed send leaves its rows pending for the next run.
   */
  async publishPending(limit = 100, topics?: readonly OutboxTopic[]): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      let pending = tx
        .selectFrom('outbox')
        .select(['id', 'topic', 'payload'])
        .where('published_at', 'is', null);
      // A function may send only to the queues of the topics it writes (least privilege).
      if (topics) pending = pending.where('topic', 'in', [...topics]);
      const rows = await pending.orderBy('id').limit(limit).forUpdate().skipLocked().execute();
      if (rows.length === 0) return 0;
      const byQueue = new Map<(typeof outboxQueues)[OutboxTopic], unknown[]>();
      for (const row of rows) {
        const queue = outboxQueues[row.topic as OutboxTopic];
        if (!queue) throw new Error(`outbox row ${row.id} has an unknown topic "${row.topic}"`);
        byQueue.set(queue, [...(byQueue.get(queue) ?? []), row.payload]);
      }
      for (const [queue, bodies] of byQueue) await this.send(queue, bodies);
      await tx
        .updateTable('outbox')
        .set({ published_at: sql`now()` })
        .where(
          'id',
          'in',
          rows.map((row) => row.id),
        )
        .execute();
      return rows.length;
    });
  }

  /**
   * Removes up to `limit` rows published more than `retentionDays` ago, oldest first; returns how many.
   * Small batches: a relay run never holds a long delete, and a backlog drains over a few runs.
   */
  async prunePublished(retentionDays: number, limit = 1000): Promise<number> {
    const expired = this.db
      .selectFrom('outbox')
      .select('id')
      .where('published_at', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
      .orderBy('published_at')
      .limit(limit);
    const deleted = await this.db.deleteFrom('outbox').where('id', 'in', expired).executeTakeFirst();
    return Number(deleted.numDeletedRows);
  }

  /** Rows not yet published: what the relay still owes (tests, diagnostics). */
  async pending(): Promise<number> {
    const { count } = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('published_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(count);
  }
}
