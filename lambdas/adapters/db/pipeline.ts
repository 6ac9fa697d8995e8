import { type Kysely, sql, type Transaction, type UpdateObject } from 'kysely';
import type { VideoEventType } from '#core/events.ts';
import type { ChunkPlan, JobResult } from '#core/media/chunks.ts';
import type {
  PipelineStore,
  PipelineVideo,
  ReadyMedia,
  SourceMedia,
  TranscodeJobStore,
} from '#core/pipeline.ts';
import type { Rendition } from '#core/video.ts';
import { recordVideoEvent } from './events.ts';
import type { Database } from './schema.ts';

/**
 * Status transitions the media pipeline makes. Each is conditional on the state it expects, so a
 * redelivered or out-of-order message can never move a video backwards (a ready video never becomes
 * failed, a deleted one never becomes ready).
 */
export class PipelineVideos implements PipelineStore, TranscodeJobStore {
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
    return this.moveProcessing(videoId, 'video.processing', {
      probe: JSON.stringify(media),
      duration_seconds: media.source.durationSeconds,
      width: media.source.width,
      height: media.source.height,
      // Progress counts jobs: a chunked ladder's, or the one job of a single-process one.
      transcode_jobs_total: media.chunks?.jobCount ?? 1,
      transcode_jobs_done: 0,
    });
  }

  /** processing -> failed, with a reason a person can act on (a deleted video too: its record says why). */
  async fail(videoId: string, reason: string): Promise<boolean> {
    return this.moveProcessing(
      videoId,
      'video.failed',
      { status: 'failed', failure_reason: reason },
      { deletedToo: true },
    );
  }

  /** processing -> ready with its renditions, atomically: readers see all of it or none. */
  async complete(videoId: string, media: ReadyMedia): Promise<boolean> {
    return this.moveProcessing(
      videoId,
      'video.ready',
      {
        status: 'ready',
        failure_reason: null,
        duration_seconds: media.durationSeconds,
        width: media.width,
        height: media.height,
        master_playlist_key: media.masterPlaylistKey,
        poster_key: media.posterKey,
        thumbnail_key: media.thumbnailKey,
        transcode_jobs_done: sql`coalesce(transcode_jobs_total, 0)`,
      },
      {
        renditions: media.renditions,
        within: async (tx) => {
          await tx.deleteFrom('renditions').where('video_id', '=', videoId).execute();
          await tx
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
        },
      },
    );
  }

  /**
   * The one shape of every move above: `set` applies only while the video is processing (and not
   * deleted, unless `deletedToo`); what `within` writes and the move's event commit with it, or nothing
   * does. True when this call made the move.
   */
  private async moveProcessing(
    videoId: string,
    event: VideoEventType,
    set: UpdateObject<Database, 'videos'>,
    options: {
      deletedToo?: boolean;
      renditions?: Rendition[];
      within?: (tx: Transaction<Database>) => Promise<void>;
    } = {},
  ): Promise<boolean> {
    const moved = await this.db.transaction().execute(async (tx) => {
      const row = await tx
        .updateTable('videos')
        .set({ ...set, updated_at: sql`now()` })
        .where('id', '=', videoId)
        .where('status', '=', 'processing')
        .$if(!options.deletedToo, (qb) => qb.where('deleted_at', 'is', null))
        .returningAll()
        .executeTakeFirst();
      if (!row) return false;
      await options.within?.(tx);
      await recordVideoEvent(tx, event, row, options.renditions);
      return true;
    });
    return this.published(moved);
  }

  /** The jobs of a chunked transcode, queued; a repeated call (an ingest retry) changes nothing. */
  async planJobs(videoId: string, chunks: ChunkPlan): Promise<void> {
    await this.db
      .insertInto('transcode_jobs')
      .values(
        Array.from({ length: chunks.jobCount }, (_, job) => ({
          video_id: videoId,
          job,
          kind: job >= chunks.audioJob ? ('audio' as const) : ('video' as const),
        })),
      )
      .onConflict((oc) => oc.columns(['video_id', 'job']).doNothing())
      .execute();
  }

  async startJob(
    videoId: string,
    job: number,
  ): Promise<{ done: false } | { done: true; landedLast: boolean }> {
    const row = await this.db
      .updateTable('transcode_jobs')
      .set({ attempts: sql`attempts + 1`, updated_at: sql`now()` })
      .where('video_id', '=', videoId)
      .where('job', '=', job)
      .returning(['state', 'landed_last'])
      .executeTakeFirst();
    if (!row) throw new Error(`video ${videoId} has no transcode job ${job}`);
    return row.state === 'done' ? { done: true, landedLast: row.landed_last } : { done: false };
  }

  /**
   * Marks the job done and counts it on the video, in one transaction. Only the update that flips the
   * job's state counts; the video row's lock serializes the counts, so exactly one job sees the last.
   */
  async finishJob(videoId: string, job: number, result: JobResult): Promise<{ landedLast: boolean }> {
    return this.db.transaction().execute(async (tx) => {
      const flipped = await tx
        .updateTable('transcode_jobs')
        .set({ state: 'done', result: JSON.stringify(result), updated_at: sql`now()` })
        .where('video_id', '=', videoId)
        .where('job', '=', job)
        .where('state', '=', 'queued')
        .returning('job')
        .executeTakeFirst();
      if (!flipped) {
        const row = await tx
          .selectFrom('transcode_jobs')
          .select('landed_last')
          .where('video_id', '=', videoId)
          .where('job', '=', job)
          .executeTakeFirst();
        return { landedLast: row?.landed_last ?? false };
      }
      const counted = await tx
        .updateTable('videos')
        .set({ transcode_jobs_done: sql`transcode_jobs_done + 1` })
        .where('id', '=', videoId)
        .returning(['transcode_jobs_done', 'transcode_jobs_total'])
        .executeTakeFirst();
      const landedLast =
        counted !== undefined && counted.transcode_jobs_done === counted.transcode_jobs_total;
      if (landedLast) {
        await tx
          .updateTable('transcode_jobs')
          .set({ landed_last: true })
          .where('video_id', '=', videoId)
          .where('job', '=', job)
          .execute();
      }
      return { landedLast };
    });
  }

  async results(videoId: string): Promise<JobResult[]> {
    const rows = await this.db
      .selectFrom('transcode_jobs')
      .select(['job', 'state', 'result'])
      .where('video_id', '=', videoId)
      .orderBy('job')
      .execute();
    const missing = rows.filter((r) => r.state !== 'done').map((r) => r.job);
    if (missing.length > 0) throw new Error(`video ${videoId}: jobs ${missing.join(', ')} are not done`);
    return rows.map((r) => r.result as JobResult);
  }
}
