import type { Selectable } from 'kysely';
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
import type { TranscodeJobsTable, VideoRow, VideoUpdate } from './schema.ts';
import { type Db, join, type Sql, setValues, sql, where } from './sql.ts';

type TranscodeJobRow = Selectable<TranscodeJobsTable>;

/** A change to a video row: a value for a column, or SQL that computes it (sql`now()`). */
type VideoChanges = { [Column in keyof VideoUpdate]?: VideoUpdate[Column] | Sql };

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
    private readonly db: Db,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  private async published<T>(changed: T): Promise<T> {
    if (changed) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return changed;
  }

  async find(videoId: string): Promise<PipelineVideo | undefined> {
    const row = await this.db.first<
      Pick<VideoRow, 'id' | 'status' | 'deleted_at' | 'source_key' | 'source_size' | 'probe'>
    >(sql`select id, status, deleted_at, source_key, source_size, probe from videos where id = ${videoId}`);
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
    const updated = await this.db.run(
      sql`update videos set ingested_revision = ${revision}, updated_at = now()
          where id = ${videoId} and status = 'processing'
            and (ingested_revision is null or ingested_revision = ${revision})
            and deleted_at is null`,
    );
    return updated > 0;
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
          await tx.run(sql`delete from renditions where video_id = ${videoId}`);
          const rows = media.renditions.map(
            (r) =>
              sql`(${videoId}, ${r.name}, ${r.width}, ${r.height}, ${r.bitrate}, ${r.codecs}, ${r.playlistKey})`,
          );
          await tx.run(
            sql`insert into renditions (video_id, name, width, height, bitrate, codecs, playlist_key)
                values ${join(rows)}`,
          );
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
    set: VideoChanges,
    options: {
      deletedToo?: boolean;
      renditions?: Rendition[];
      within?: (tx: Db) => Promise<void>;
    } = {},
  ): Promise<boolean> {
    const moved = await this.db.transaction(async (tx) => {
      const row = await tx.first<VideoRow>(
        sql`update videos set ${setValues({ ...set, updated_at: sql`now()` })}
            ${where([
              sql`id = ${videoId}`,
              sql`status = 'processing'`,
              !options.deletedToo && sql`deleted_at is null`,
            ])}
            returning *`,
      );
      if (!row) return false;
      await options.within?.(tx);
      await recordVideoEvent(tx, event, row, options.renditions);
      return true;
    });
    return this.published(moved);
  }

  /** The jobs of a chunked transcode, queued; a repeated call (an ingest retry) changes nothing. */
  async planJobs(videoId: string, chunks: ChunkPlan): Promise<void> {
    const jobs = Array.from({ length: chunks.jobCount }, (_, job) => {
      const kind = job >= chunks.audioJob ? 'audio' : 'video';
      return sql`(${videoId}, ${job}, ${kind})`;
    });
    await this.db.run(
      sql`insert into transcode_jobs (video_id, job, kind) values ${join(jobs)}
          on conflict (video_id, job) do nothing`,
    );
  }

  async startJob(
    videoId: string,
    job: number,
  ): Promise<{ done: false } | { done: true; landedLast: boolean }> {
    const row = await this.db.first<Pick<TranscodeJobRow, 'state' | 'landed_last'>>(
      sql`update transcode_jobs set attempts = attempts + 1, updated_at = now()
          where video_id = ${videoId} and job = ${job}
          returning state, landed_last`,
    );
    if (!row) throw new Error(`video ${videoId} has no transcode job ${job}`);
    return row.state === 'done' ? { done: true, landedLast: row.landed_last } : { done: false };
  }

  /**
   * Marks the job done and counts it on the video, in one transaction. Only the update that flips the
   * job's state counts; the video row's lock serializes the counts, so exactly one job sees the last.
   */
  async finishJob(videoId: string, job: number, result: JobResult): Promise<{ landedLast: boolean }> {
    return this.db.transaction(async (tx) => {
      const flipped = await tx.first<Pick<TranscodeJobRow, 'job'>>(
        sql`update transcode_jobs set state = 'done', result = ${JSON.stringify(result)}, updated_at = now()
            where video_id = ${videoId} and job = ${job} and state = 'queued'
            returning job`,
      );
      if (!flipped) {
        const row = await tx.first<Pick<TranscodeJobRow, 'landed_last'>>(
          sql`select landed_last from transcode_jobs where video_id = ${videoId} and job = ${job}`,
        );
        return { landedLast: row?.landed_last ?? false };
      }
      const counted = await tx.first<Pick<VideoRow, 'transcode_jobs_done' | 'transcode_jobs_total'>>(
        sql`update videos set transcode_jobs_done = transcode_jobs_done + 1
            where id = ${videoId}
            returning transcode_jobs_done, transcode_jobs_total`,
      );
      const landedLast =
        counted !== undefined && counted.transcode_jobs_done === counted.transcode_jobs_total;
      if (landedLast) {
        await tx.run(
          sql`update transcode_jobs set landed_last = true where video_id = ${videoId} and job = ${job}`,
        );
      }
      return { landedLast };
    });
  }

  async results(videoId: string): Promise<JobResult[]> {
    const rows = await this.db.all<Pick<TranscodeJobRow, 'job' | 'state' | 'result'>>(
      sql`select job, state, result from transcode_jobs where video_id = ${videoId} order by job`,
    );
    const missing = rows.filter((r) => r.state !== 'done').map((r) => r.job);
    if (missing.length > 0) throw new Error(`video ${videoId}: jobs ${missing.join(', ')} are not done`);
    return rows.map((r) => r.result as JobResult);
  }
}
