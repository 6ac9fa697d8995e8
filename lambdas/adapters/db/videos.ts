import { type Kysely, type Selectable, sql } from 'kysely';
import type { UploadVideos } from '#core/uploads.ts';
import type { Rendition, VideoRecord } from '#core/video.ts';
import type { VideoListQuery, VideoPatch, VideoRepository } from '#core/videos.ts';
import type { Database, NewVideoRow, VideosTable } from './schema.ts';

/** The catalog over Postgres. Every query is built by Kysely with bound parameters; no SQL from strings. */
export class PostgresVideoRepository implements VideoRepository, UploadVideos {
  constructor(private readonly db: Kysely<Database>) {}

  async findById(id: string): Promise<VideoRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withRenditions([row]))[0] : undefined;
  }

  async list(query: VideoListQuery): Promise<VideoRecord[]> {
    let select = this.db.selectFrom('videos').selectAll().where('deleted_at', 'is', null);
    select = query.ownerId
      ? select.where('owner_id', '=', query.ownerId)
      : select.where('visibility', '=', 'public').where('status', '=', 'ready');
    if (query.status) select = select.where('status', '=', query.status);
    if (query.search)
      select = select.where(sql<boolean>`search @@ websearch_to_tsquery('english', ${query.search})`);
    if (query.after) {
      const { createdAt, id } = query.after;
      select = select.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)));
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.take).execute();
    return this.withRenditions(rows);
  }

  async insert(row: NewVideoRow): Promise<VideoRecord> {
    const inserted = await this.db.insertInto('videos').values(row).returningAll().executeTakeFirstOrThrow();
    return toRecord(inserted, []);
  }

  async createUploading(
    video: Parameters<UploadVideos['createUploading']>[0],
    quota: Parameters<UploadVideos['createUploading']>[1],
  ): ReturnType<UploadVideos['createUploading']> {
    if (!quota) {
      await insertUploading(this.db, video);
      return { created: true };
    }
    return this.db.transaction().execute(async (trx) => {
      // One owner's creations queue here, so the usage read below cannot be stale by the insert.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`videocloud:storage:${video.ownerId}`}, 0))`.execute(
        trx,
      );
      const bytesUsed = await storageUsed(trx, video.ownerId, quota.openUploadSeconds);
      if (bytesUsed + video.sourceSize > quota.limitBytes) return { created: false, bytesUsed };
      await insertUploading(trx, video);
      return { created: true };
    });
  }

  storageUsed(ownerId: string, openUploadSeconds: number): Promise<number> {
    return storageUsed(this.db, ownerId, openUploadSeconds);
  }

  async markProcessing(videoId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('videos')
      .set({ status: 'processing', updated_at: sql`now()` })
      .where('id', '=', videoId)
      .where('status', '=', 'uploading')
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async update(id: string, patch: VideoPatch): Promise<VideoRecord> {
    const row = await this.db
      .updateTable('videos')
      .set({ ...patch, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returningAll()
      .executeTakeFirstOrThrow();
    return (await this.withRenditions([row]))[0]!;
  }

  async softDelete(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('videos')
      .set({ deleted_at: sql`now()`, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  private async withRenditions(rows: Array<Selectable<VideosTable>>): Promise<VideoRecord[]> {
    const ready = rows.filter((row) => row.status === 'ready').map((row) => row.id);
    const renditions = ready.length
      ? await this.db
          .selectFrom('renditions')
          .selectAll()
          .where('video_id', 'in', ready)
          .orderBy('height', 'desc')
          .execute()
      : [];
    return rows.map((row) =>
      toRecord(
        row,
        renditions
          .filter((r) => r.video_id === row.id)
          .map((r) => ({
            name: r.name,
            width: r.width,
            height: r.height,
            bitrate: r.bitrate,
            codecs: r.codecs,
            playlistKey: r.playlist_key,
          })),
      ),
    );
  }
}

/** Sources of videos not deleted, plus the declared size of uploads opened within `openUploadSeconds`. */
async function storageUsed(
  db: Kysely<Database>,
  ownerId: string,
  openUploadSeconds: number,
): Promise<number> {
  const row = await db
    .selectFrom('videos')
    .select(sql<number>`coalesce(sum(source_size), 0)::int8`.as('used'))
    .where('owner_id', '=', ownerId)
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('status', '!=', 'uploading'),
        eb('created_at', '>', sql<Date>`now() - make_interval(secs => ${openUploadSeconds})`),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.used);
}

async function insertUploading(
  db: Kysely<Database>,
  video: Parameters<UploadVideos['createUploading']>[0],
): Promise<void> {
  await db
    .insertInto('videos')
    .values({
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
    })
    .execute();
}

export function toRecord(row: Selectable<VideosTable>, renditions: Rendition[]): VideoRecord {
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    uploadId: row.upload_id ?? null,
    renditions,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are opaque to clients; anything that is not one of ours simply does not exist. */
export const isUuid = (id: string) => UUID.test(id);
