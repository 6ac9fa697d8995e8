import type { Selectable } from 'kysely';
import type { CaptionRecord, CaptionRepository } from '#core/captions.ts';
import { outboxTopics } from '#shared/resources.ts';
import { enqueueOutbox } from './outbox.ts';
import type { CaptionsTable } from './schema.ts';
import { type Db, insertValues, sql } from './sql.ts';
import { isUuid } from './videos.ts';

type CaptionRow = Selectable<CaptionsTable>;

/** Caption tracks over Postgres: the API's repository, and the worker's state moves under a per-video lock. */
export class PostgresCaptions implements CaptionRepository {
  constructor(
    private readonly db: Db,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  async forVideo(videoId: string): Promise<CaptionRecord[]> {
    if (!isUuid(videoId)) return [];
    const rows = await this.db.all<CaptionRow>(
      sql`select * from captions where video_id = ${videoId} order by created_at, id`,
    );
    return rows.map(toRecord);
  }

  async find(videoId: string, captionId: string): Promise<CaptionRecord | undefined> {
    if (!isUuid(videoId) || !isUuid(captionId)) return undefined;
    const row = await this.db.first<CaptionRow>(
      sql`select * from captions where video_id = ${videoId} and id = ${captionId}`,
    );
    return row && toRecord(row);
  }

  /** The count check and the insert happen under the video's lock, so concurrent creates cannot pass `max`. */
  async create(caption: Omit<CaptionRecord, 'createdAt' | 'status' | 'failureReason'>, max: number) {
    return this.db.transaction(async (tx) => {
      await lockVideo(tx, caption.videoId);
      const row = await tx.first<{ count: number | string }>(
        sql`select count(*) as count from captions where video_id = ${caption.videoId}`,
      );
      if (Number(row?.count ?? 0) >= max) return false;
      await tx.run(
        sql`insert into captions ${insertValues({
          id: caption.id,
          video_id: caption.videoId,
          language: caption.language,
          label: caption.label,
          format: caption.format,
          size: caption.size,
          status: 'uploading',
          failure_reason: null,
        })}`,
      );
      return true;
    });
  }

  async remove(videoId: string, captionId: string): Promise<boolean> {
    if (!isUuid(videoId) || !isUuid(captionId)) return false;
    const removed = await this.db.transaction(async (tx) => {
      const row = await tx.first<{ id: string }>(
        sql`delete from captions where video_id = ${videoId} and id = ${captionId} returning id`,
      );
      if (row) await enqueueOutbox(tx, outboxTopics.captionDeleted, { videoId, captionId });
      return row !== undefined;
    });
    if (removed) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return removed;
  }

  /** uploading -> processing, once per track; false when it already moved on (or is gone). */
  async markProcessing(captionId: string): Promise<boolean> {
    const updated = await this.db.run(
      sql`update captions set status = 'processing', updated_at = now()
          where id = ${captionId} and status = 'uploading'`,
    );
    return updated > 0;
  }

  async markFailed(captionId: string, reason: string): Promise<void> {
    await this.db.run(
      sql`update captions set status = 'failed', failure_reason = ${reason.slice(0, 1000)}, updated_at = now()
          where id = ${captionId} and status in ('uploading', 'processing')`,
    );
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
    return this.db.transaction(async (tx) => {
      await lockVideo(tx, videoId);
      let marked = false;
      if (readyId) {
        const updated = await tx.run(
          sql`update captions set status = 'ready', failure_reason = null, updated_at = now()
              where id = ${readyId} and status = 'processing'`,
        );
        marked = updated > 0;
      }
      const rows = await tx.all<CaptionRow>(
        sql`select * from captions where video_id = ${videoId} and status = 'ready' order by created_at, id`,
      );
      return publish(rows.map(toRecord), marked);
    });
  }
}

async function lockVideo(tx: Db, videoId: string): Promise<void> {
  await tx.run(sql`select pg_advisory_xact_lock(hashtext(${`captions:${videoId}`}))`);
}

function toRecord(row: CaptionRow): CaptionRecord {
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
