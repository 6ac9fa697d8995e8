import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { CaptionRecord, CaptionRepository } from '#core/captions.ts';
import { outboxTopics } from '#shared/resources.ts';
import { enqueueOutbox } from './outbox.ts';
import type { CaptionsTable, Database } from './schema.ts';
import { isUuid } from './videos.ts';

/** Caption tracks over Postgres: the API's repository, and the worker's state moves under a per-video lock. */
export class PostgresCaptions implements CaptionRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  async forVideo(videoId: string): Promise<CaptionRecord[]> {
    if (!isUuid(videoId)) return [];
    const rows = await this.db
      .selectFrom('captions')
      .selectAll()
      .where('video_id', '=', videoId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async find(videoId: string, captionId: string): Promise<CaptionRecord | undefined> {
    if (!isUuid(videoId) || !isUuid(captionId)) return undefined;
    const row = await this.db
      .selectFrom('captions')
      .selectAll()
      .where('video_id', '=', videoId)
      .where('id', '=', captionId)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** The count check and the insert happen under the video's lock, so concurrent creates cannot pass `max`. */
  async create(caption: Omit<CaptionRecord, 'createdAt' | 'status' | 'failureReason'>, max: number) {
    return this.db.transaction().execute(async (tx) => {
      await lockVideo(tx, caption.videoId);
      const { count } = await tx
        .selectFrom('captions')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('video_id', '=', caption.videoId)
        .executeTakeFirstOrThrow();
      if (Number(count) >= max) return false;
      await tx
        .insertInto('captions')
        .values({
          id: caption.id,
          video_id: caption.videoId,
          language: caption.language,
          label: caption.label,
          format: caption.format,
          size: caption.size,
          status: 'uploading',
          failure_reason: null,
        })
        .execute();
      return true;
    });
  }

  async remove(videoId: string, captionId: string): Promise<boolean> {
    if (!isUuid(videoId) || !isUuid(captionId)) return false;
    const removed = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .deleteFrom('captions')
        .where('video_id', '=', videoId)
        .where('id', '=', captionId)
        .returning('id')
        .executeTakeFirst();
      if (row) await enqueueOutbox(tx, outboxTopics.captionDeleted, { videoId, captionId });
      return row !== undefined;
    });
    if (removed) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return removed;
  }

  /** uploading -> processing, once per track; false when it already moved on (or is gone). */
  async markProcessing(captionId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('captions')
      .set({ status: 'processing', updated_at: sql`now()` })
      .where('id', '=', captionId)
      .where('status', '=', 'uploading')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async markFailed(captionId: string, reason: string): Promise<void> {
    await this.db
      .updateTable('captions')
      .set({ status: 'failed', failure_reason: reason.slice(0, 1000), updated_at: sql`now()` })
      .where('id', '=', captionId)
      .where('status', 'in', ['uploading', 'processing'])
      .execute();
  }

  /**
   * Runs `publish` with the video's ready tracks while holding the video's caption lock, after marking
   * `readyId` ready (when given) in the same transaction: two tracks finishing at once are published one
   * after the other, each with the other's state, and a track is ready only once it is in the master.
   * Deleting a track takes the same lock (its row goes first, in the API's transaction), so a track
   * deleted meanwhile is not marked (`marked` false) and the worker leaves no files behind.
   */
  async publishing<T>(
    videoId: string,
    readyId: string | undefined,
    publish: (ready: CaptionRecord[], marked: boolean) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction().execute(async (tx) => {
      await lockVideo(tx, videoId);
      let marked = false;
      if (readyId) {
        const result = await tx
          .updateTable('captions')
          .set({ status: 'ready', failure_reason: null, updated_at: sql`now()` })
          .where('id', '=', readyId)
          .where('status', '=', 'processing')
          .executeTakeFirst();
        marked = result.numUpdatedRows > 0n;
      }
      const rows = await tx
        .selectFrom('captions')
        .selectAll()
        .where('video_id', '=', videoId)
        .where('status', '=', 'ready')
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return publish(rows.map(toRecord), marked);
    });
  }
}

async function lockVideo(tx: Transaction<Database>, videoId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`captions:${videoId}`}))`.execute(tx);
}

function toRecord(row: Selectable<CaptionsTable>): CaptionRecord {
  return {
    id: row.id,
    videoId: row.video_id,
    language: row.language,
    label: row.label,
    format: row.format,
    size: row.size,
    status: row.status,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
  };
}
