import { type Kysely, sql } from 'kysely';
import type { PipelineStore, PipelineVideo, ReadyMedia, SourceMedia } from '#core/pipeline.ts';
import { recordVideoEvent } from './events.ts';
import type { Database } from './schema.ts';

/**
 * Status transitions the media pipeline makes. Each is conditional on the state it expects, so a
 * redelivered or out-of-order message can never move a video backwards (a ready video never becomes
 * failed, a deleted one never becomes ready).
 */
export class PipelineVideos implements PipelineStore {
  /**
   * Moves that users see (processing, ready, failed) write their event to the outbox in the same
   * transaction; `afterOutboxWrite` hands it on right after the commit (the minute's relay otherwise).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  private async published<T>(changed: T): Promise<T> {
    if (changed) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return changed;
  }

  async find(videoId: string): Promise<PipelineVideo | undefined> {
    const row = await this.db
      .selectFrom('videos')
      .select(['id', 'status', 'deleted_at', 'source_key', 'source_size', 'probe'])
      .where('id', '=', videoId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      deleted: row.deleted_at !== null,
      sourceKey: row.source_key,
      sourceSize: row.source_size === null ? null : Number(row.source_size),
      media: (row.probe as SourceMedia | null) ?? null,
    };
  }

  /**
   * Claims the video for the pipeline on behalf of one write of its source. The first revision wins: an
   * event for another write of the same key finds it taken, while the same revision may claim again
   * (its worker died after claiming, and the retry must be able to finish).
   */
  async claim(videoId: string, revision: string): Promise<boolean> {
    const result = await this.db
      .updateTable('videos')
      .set({ ingested_revision: revision, updated_at: sql`now()` })
      .where('id', '=', videoId)
      .where('status', '=', 'processing')
      .where((eb) => eb.or([eb('ingested_revision', 'is', null), eb('ingested_revision', '=', revision)]))
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordPlan(videoId: string, media: SourceMedia): Promise<boolean> {
    const planned = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('videos')
        .set({
          probe: JSON.stringify(media),
          duration_seconds: media.source.durationSeconds,
          width: media.source.width,
          height: media.source.height,
          updated_at: sql`now()`,
        })
        .where('id', '=', videoId)
        .where('status', '=', 'processing')
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (row) await recordVideoEvent(tx, 'video.processing', row);
      return row !== undefined;
    });
    return this.published(planned);
  }

  /** processing -> failed, with a reason a person can act on. */
  async fail(videoId: string, reason: string): Promise<boolean> {
    const failed = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('videos')
        .set({ status: 'failed', failure_reason: reason, updated_at: sql`now()` })
        .where('id', '=', videoId)
        .where('status', '=', 'processing')
        .returningAll()
        .executeTakeFirst();
      if (row) await recordVideoEvent(tx, 'video.failed', row);
      return row !== undefined;
    });
    return this.published(failed);
  }

  /** processing -> ready with its renditions, atomically: readers see all of it or none. */
  async complete(videoId: string, media: ReadyMedia): Promise<boolean> {
    const completed = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('videos')
        .set({
          status: 'ready',
          failure_reason: null,
          duration_seconds: media.durationSeconds,
          width: media.width,
          height: media.height,
          master_playlist_key: media.masterPlaylistKey,
          poster_key: media.posterKey,
          thumbnail_key: media.thumbnailKey,
          updated_at: sql`now()`,
        })
        .where('id', '=', videoId)
        .where('status', '=', 'processing')
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!row) return false;
      await trx.deleteFrom('renditions').where('video_id', '=', videoId).execute();
      await trx
        .insertInto('renditions')
        .values(
          media.renditions.map((r) => ({
            video_id: videoId,
            name: r.name,
            width: r.width,
            height: r.height,
            bitrate: r.bitrate,
            codecs: r.codecs,
            playlist_key: r.playlistKey,
          })),
        )
        .execute();
      await recordVideoEvent(trx, 'video.ready', row, media.renditions);
      return true;
    });
    return this.published(completed);
  }
}
