import type { UploadView } from '#core/events.ts';
import type { Keyset } from '#core/pagination.ts';
import type { UploadVideos } from '#core/uploads.ts';
import type { DerivativesState, Rendition, VideoRecord } from '#core/video.ts';
import type { VideoListQuery, VideoPatch, VideoRepository } from '#core/videos.ts';
import { outboxTopics } from '#shared/resources.ts';
import { recordUploadEvent, recordVideoEvent } from './events.ts';
import { enqueueOutbox } from './outbox.ts';
import type { NewVideoRow, RenditionRow, VideoRow } from './schema.ts';
import { type Db, ident, insertValues, olderThan, type Sql, setValues, sql, where } from './sql.ts';

export interface VideoRepositoryOptions {
  /**
   * Called after a change that wrote outbox rows has committed: the fast path that hands them on at once
   * (the scheduled relay picks up whatever it misses). Its failure never fails the change.
   */
  afterOutboxWrite?: () => Promise<void>;
  /** How many of the newest listed videos a search reads before it turns to the GIN index (see `search`). */
  searchWindow?: number;
}

const SEARCH_WINDOW = 1000;

/** A video row with its renditions and captions beside it, as `media` reads them. */
type RowWithMedia = VideoRow & {
  rendition_rows: Array<Parameters<typeof toRendition>[0]>;
  caption_rows: VideoRecord['captions'];
};

/** The catalog over Postgres. Every statement is written in sql.ts's tag with bound parameters; no SQL from strings. */
export class PostgresVideoRepository implements VideoRepository, UploadVideos {
  constructor(
    private readonly db: Db,
    private readonly options: VideoRepositoryOptions = {},
  ) {}

  async findById(id: string): Promise<VideoRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.first<RowWithMedia>(
      sql`select *, ${this.media('videos')} from videos where id = ${id}`,
    );
    return row ? withMedia(row) : undefined;
  }

  /** Each listing is one statement (two for a rare search term), renditions and captions included. */
  async list(query: VideoListQuery): Promise<VideoRecord[]> {
    if (query.search) return (await this.search(query, query.search)).map(withMedia);
    const rows = await this.db.all<RowWithMedia>(
      sql`select *, ${this.media('videos')} from videos
          ${this.listing(query, query.after)}
          order by created_at desc, id desc
          limit ${query.take}`,
    );
    return rows.map(withMedia);
  }

  /**
   * A ready video's renditions and ready captions, as JSON arrays beside the row of `from` (a video
   * that is not ready has neither), so a read takes one round trip, not three.
   */
  private media(from: string): Sql {
    const video = (column: string) => sql`${ident(from)}.${ident(column)}`;
    return sql`
      (select coalesce(json_agg(agg), '[]') from (
        select name, width, height, bitrate, codecs, playlist_key from renditions
        where renditions.video_id = ${video('id')} and ${video('status')} = 'ready'
        order by height desc
      ) as agg) as rendition_rows,
      (select coalesce(json_agg(agg), '[]') from (
        select id, language, label from captions
        where captions.video_id = ${video('id')} and ${video('status')} = 'ready' and status = 'ready'
        order by created_at, id
      ) as agg) as caption_rows`;
  }

  /**
   * The where clause of the listing `query` names (public ready videos, or one owner's), after `after`;
   * `also` adds conditions.
   */
  private listing(query: VideoListQuery, after: Keyset | undefined, also: Sql[] = []): Sql {
    return where([
      sql`deleted_at is null`,
      ...(query.ownerId
        ? [sql`owner_id = ${query.ownerId}`]
        : [sql`visibility = 'public'`, sql`status = 'ready'`]),
      query.status && sql`status = ${query.status}`,
      olderThan(after),
      ...also,
    ]);
  }

  /**
   * The newest `take` videos of the listing that match `search`, in listing order. Neither index alone
   * serves every term: walking the listing index newest first and filtering is fastest for a common term
   * (a page in a few dozen rows) and reads the whole listing for a rare one; the GIN index finds a rare
   * term's few rows at once but must fetch and sort every row of a common one. The planner picks between
   * them on its guess of how common the term is, and guesses badly for words that are common apart but
   * rare together. So both, each where it is bounded:
   * 1. Read the newest `searchWindow` rows of the listing (its index, in order) and keep the matches. If
   *    there are `take`, they are the answer: nothing older can come before them.
   * 2. Otherwise the term is rare here, and the rest of the page comes from the GIN index, from the rows
   *    older than the last one read: all their matches (MATERIALIZED keeps the planner from turning this
   *    back into a walk of the listing), newest first.
   * The result is exactly the listing filtered by the term; only the work differs.
   */
  private async search(query: VideoListQuery, search: string): Promise<RowWithMedia[]> {
    const window = this.options.searchWindow ?? SEARCH_WINDOW;
    const matches = sql`search @@ websearch_to_tsquery('english', ${search})`;
    // The matches among them, and the last row read (whether or not it matches), in listing order.
    const rows = await this.db.all<RowWithMedia & { hit: boolean; position: number }>(
      sql`select *, ${this.media('read')} from (
            select *, ${matches} as hit,
              (row_number() over (order by created_at desc, id desc))::int as position
            from (
              select * from videos ${this.listing(query, query.after)}
              order by created_at desc, id desc
              limit ${window}
            ) as newest
          ) as read
          where (hit or position = ${window})
          order by created_at desc, id desc
          limit ${query.take + 1}`,
    );
    const found = rows.filter((row) => row.hit).slice(0, query.take);
    const last = rows.find((row) => row.position === window);
    // A full page, or the listing ended inside the window (so every match was in it).
    if (found.length === query.take || !last) return found;
    const older = await this.db.all<RowWithMedia>(
      sql`with matches as materialized (
            select * from videos
            ${this.listing(query, { createdAt: last.created_at, id: last.id }, [matches])}
          )
          select *, ${this.media('matches')} from matches
          order by created_at desc, id desc
          limit ${query.take - found.length}`,
    );
    return [...found, ...older];
  }

  async insert(row: NewVideoRow): Promise<VideoRecord> {
    const inserted = await this.db.first<VideoRow>(sql`insert into videos ${insertValues(row)} returning *`);
    return toRecord(expectRow(inserted, 'the inserted video'), []);
  }

  async createUploading(
    video: Parameters<UploadVideos['createUploading']>[0],
    quota: Parameters<UploadVideos['createUploading']>[1],
  ): ReturnType<UploadVideos['createUploading']> {
    // The video and its video.created event commit together (with the quota check, when there is one).
    const result = await this.db.transaction(async (tx) => {
      if (!quota) {
        await insertUploading(tx, video);
        return { created: true } as const;
      }
      // One owner's creations queue here, so the usage read below cannot be stale by the insert.
      await tx.run(
        sql`select pg_advisory_xact_lock(hashtextextended(${`videocloud:storage:${video.ownerId}`}, 0))`,
      );
      const bytesUsed = await storageUsed(tx, video.ownerId, quota.openUploadSeconds);
      if (bytesUsed + video.sourceSize > quota.limitBytes) return { created: false, bytesUsed } as const;
      await insertUploading(tx, video);
      return { created: true } as const;
    });
    if (result.created) await this.afterOutboxWrite();
    return result;
  }

  storageUsed(ownerId: string, openUploadSeconds: number): Promise<number> {
    return storageUsed(this.db, ownerId, openUploadSeconds);
  }

  async markProcessing(videoId: string): Promise<boolean> {
    const moved = await this.db.transaction(async (tx) => {
      const row = await tx.first<VideoRow>(
        sql`update videos set status = 'processing', updated_at = now()
            where id = ${videoId} and status = 'uploading' and deleted_at is null
            returning *`,
      );
      if (row) await recordVideoEvent(tx, 'video.upload.completed', row);
      return row !== undefined;
    });
    if (moved) await this.afterOutboxWrite();
    return moved;
  }

  async update(id: string, patch: VideoPatch, effects: { revokePlayback: boolean }): Promise<VideoRecord> {
    const row = await this.db.transaction(async (tx) => {
      // Fields the patch leaves undefined are not set.
      const changes = setValues({
        title: patch.title,
        description: patch.description,
        visibility: patch.visibility,
        downloads: patch.downloads,
        poster_time_seconds: patch.posterTimeSeconds,
        updated_at: sql`now()`,
        playback_epoch: effects.revokePlayback ? nextEpoch : undefined,
      });
      const updated = expectRow(
        await tx.first<VideoRow>(
          sql`update videos set ${changes} where id = ${id} and deleted_at is null returning *`,
        ),
        `video ${id}`,
      );
      if (effects.revokePlayback) await recordRevocation(tx, updated);
      // A ready video's derivatives follow its settings (a video not ready yet gets them with video.ready).
      if (
        (patch.downloads !== undefined || patch.posterTimeSeconds !== undefined) &&
        updated.status === 'ready'
      ) {
        await enqueueOutbox(tx, outboxTopics.derivatives, { videoId: id });
      }
      await recordVideoEvent(tx, 'video.updated', updated);
      return updated;
    });
    await this.afterOutboxWrite();
    return (await this.withRenditions([row]))[0]!;
  }

  /**
   * With `upload`, the video goes because its upload did (aborted or expired): that event comes first,
   * in the same transaction as `video.deleted`.
   */
  async softDelete(
    id: string,
    upload?: { type: 'upload.aborted' | 'upload.expired'; view: UploadView },
  ): Promise<boolean> {
    const deleted = await this.db.transaction(async (tx) => {
      const row = await tx.first<VideoRow>(
        sql`update videos set deleted_at = now(), updated_at = now(), playback_epoch = ${nextEpoch}
            where id = ${id} and deleted_at is null
            returning *`,
      );
      if (!row) return false;
      await recordRevocation(tx, row);
      if (upload) await recordUploadEvent(tx, upload.type, upload.view, row.owner_id);
      await recordVideoEvent(tx, 'video.deleted', row);
      return true;
    });
    if (deleted) await this.afterOutboxWrite();
    return deleted;
  }

  /** Videos still uploading whose upload session expired before `before`: the expiry sweep's work. */
  async expiredUploads(
    before: Date,
    limit: number,
  ): Promise<Array<{ videoId: string; uploadId: string | null }>> {
    const rows = await this.db.all<Pick<VideoRow, 'id' | 'upload_id'>>(
      sql`select id, upload_id from videos
          where status = 'uploading' and deleted_at is null and upload_expires_at < ${before}
          order by upload_expires_at
          limit ${limit}`,
    );
    return rows.map((row) => ({ videoId: row.id, uploadId: row.upload_id }));
  }

  private async afterOutboxWrite(): Promise<void> {
    await this.options.afterOutboxWrite?.().catch(() => undefined);
  }

  private async withRenditions(rows: VideoRow[]): Promise<VideoRecord[]> {
    const ready = rows.filter((row) => row.status === 'ready').map((row) => row.id);
    const [renditions, captions] = ready.length
      ? await Promise.all([
          this.db.all<RenditionRow>(
            sql`select * from renditions where video_id = any(${ready}) order by height desc`,
          ),
          this.db.all<{ id: string; video_id: string; language: string; label: string }>(
            sql`select id, video_id, language, label from captions
                where video_id = any(${ready}) and status = 'ready'
                order by created_at, id`,
          ),
        ])
      : [[], []];
    return rows.map((row) =>
      toRecord(
        row,
        renditions.filter((r) => r.video_id === row.id).map(toRendition),
        captions
          .filter((c) => c.video_id === row.id)
          .map(({ id, language, label }) => ({ id, language, label })),
      ),
    );
  }
}

/** The row a statement that always returns one returned (Kysely's executeTakeFirstOrThrow threw likewise). */
function expectRow<Row>(row: Row | undefined, what: string): Row {
  if (row === undefined) throw new Error(`no result: ${what}`);
  return row;
}

/** Sources of videos not deleted, plus the declared size of uploads opened within `openUploadSeconds`. */
async function storageUsed(db: Db, ownerId: string, openUploadSeconds: number): Promise<number> {
  const row = await db.first<{ used: number | string | bigint }>(
    sql`select coalesce(sum(source_size), 0)::int8 as used from videos
        where owner_id = ${ownerId} and deleted_at is null
          and (status != 'uploading' or created_at > now() - make_interval(secs => ${openUploadSeconds}))`,
  );
  return Number(expectRow(row, 'the storage used').used);
}

async function insertUploading(tx: Db, video: Parameters<UploadVideos['createUploading']>[0]): Promise<void> {
  const row = await tx.first<VideoRow>(
    sql`insert into videos ${insertValues({
      id: video.id,
      owner_id: video.ownerId,
      title: video.title,
      description: video.description,
      visibility: video.visibility,
      status: 'uploading',
      failure_reason: null,
      source_key: video.sourceKey,
      source_filename: video.sourceFilename,
      source_content_type: video.sourceContentType,
      source_size: video.sourceSize,
      duration_seconds: null,
      width: null,
      height: null,
      poster_key: null,
      thumbnail_key: null,
      master_playlist_key: null,
      probe: null,
      ingested_revision: null,
      deleted_at: null,
      media_removed_at: null,
      upload_id: video.uploadId,
      downloads: video.downloads ?? 'none',
      upload_expires_at: video.uploadExpiresAt ?? null,
    } satisfies NewVideoRow)} returning *`,
  );
  await recordVideoEvent(tx, 'video.created', expectRow(row, 'the inserted video'));
}

function withMedia(row: RowWithMedia): VideoRecord {
  return toRecord(row, row.rendition_rows.map(toRendition), row.caption_rows);
}

function toRendition(r: {
  name: string;
  width: number;
  height: number;
  bitrate: number;
  codecs: string;
  playlist_key: string;
}): Rendition {
  return {
    name: r.name,
    width: r.width,
    height: r.height,
    bitrate: r.bitrate,
    codecs: r.codecs,
    playlistKey: r.playlist_key,
  };
}

export function toRecord(
  row: VideoRow,
  renditions: Rendition[],
  captions: VideoRecord['captions'] = [],
): VideoRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    description: row.description,
    visibility: row.visibility,
    status: row.status,
    failureReason: row.failure_reason,
    sourceKey: row.source_key,
    sourceSize: row.source_size,
    durationSeconds: row.duration_seconds,
    width: row.width,
    height: row.height,
    posterKey: row.poster_key,
    thumbnailKey: row.thumbnail_key,
    masterPlaylistKey: row.master_playlist_key,
    playbackEpoch: row.playback_epoch,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    uploadId: row.upload_id ?? null,
    renditions,
    captions,
    progress: row.transcode_jobs_total
      ? Math.min(1, (row.transcode_jobs_done ?? 0) / row.transcode_jobs_total)
      : null,
    downloads: row.downloads ?? 'none',
    posterTimeSeconds: row.poster_time_seconds ?? null,
    derivatives: (row.derivatives as DerivativesState | null) ?? null,
  };
}

/**
 * A revocation moves the epoch past every token made so far: to now, or one past the old epoch should the
 * clock not have moved (two revocations within a second).
 */
const nextEpoch = sql`greatest(playback_epoch + 1, floor(extract(epoch from now()))::bigint)`;

/**
 * Tells the CDN the video's new epoch (through the outbox, in the caller's transaction). Only a ready video
 * ever had playback URLs, so only its changes need telling.
 */
async function recordRevocation(tx: Db, row: VideoRow): Promise<boolean> {
  if (row.status !== 'ready') return false;
  await enqueueOutbox(tx, outboxTopics.playbackRevoked, { videoId: row.id, epoch: row.playback_epoch });
  return true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are opaque to clients; anything that is not one of ours simply does not exist. */
export const isUuid = (id: string) => UUID.test(id);
