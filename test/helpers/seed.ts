import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import type { VideoStatus, Visibility } from '#core/video.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { eventually } from './eventually.ts';

/** Direct inserts for tests that need catalog rows without going through an upload. */
export async function seedUser(id: string, username = id): Promise<void> {
  await (await sharedKysely())
    .insertInto('users')
    .values({ id, username, last_seen_at: sql`now()` })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export interface SeedVideo {
  ownerId: string;
  title?: string;
  description?: string;
  visibility?: Visibility;
  status?: VideoStatus;
  deleted?: boolean;
  createdAt?: Date;
}

export async function seedVideo(video: SeedVideo): Promise<string> {
  await seedUser(video.ownerId);
  const id = randomUUID();
  const ready = (video.status ?? 'ready') === 'ready';
  await (await sharedKysely())
    .insertInto('videos')
    .values({
      id,
      owner_id: video.ownerId,
      title: video.title ?? `Video ${id.slice(0, 8)}`,
      description: video.description ?? '',
      visibility: video.visibility ?? 'public',
      status: video.status ?? 'ready',
      failure_reason: video.status === 'failed' ? 'not a video: no video stream found' : null,
      source_key: `uploads/${id}/source`,
      source_filename: null,
      source_content_type: 'video/mp4',
      source_size: 1024,
      duration_seconds: ready ? 12.5 : null,
      width: ready ? 1280 : null,
      height: ready ? 720 : null,
      poster_key: ready ? `videos/${id}/poster.jpg` : null,
      thumbnail_key: ready ? `videos/${id}/thumbnail.jpg` : null,
      master_playlist_key: ready ? `videos/${id}/master.m3u8` : null,
      probe: null,
      ingested_revision: null,
      deleted_at: video.deleted ? new Date() : null,
      media_removed_at: null,
      ...(video.createdAt ? { created_at: video.createdAt } : {}),
    })
    .execute();
  return id;
}

/**
 * A video of alice's in `status` (default `processing`) whose source, `body`, is then PUT into the
 * uploads bucket: the runtime's S3 event starts the pipeline on it, as after a real upload.
 */
export async function videoWithSource(
  s3: S3Client,
  body: Buffer,
  status: VideoStatus = 'processing',
  /** The size the upload declared; the stored object's by default. Set before the object lands, which starts the ingest. */
  declaredSize = body.length,
): Promise<{ videoId: string; key: string; size: number }> {
  const videoId = await seedVideo({ ownerId: 'alice', status });
  await sql`update videos set source_size = ${declaredSize} where id = ${videoId}`.execute(
    await sharedKysely(),
  );
  const key = `uploads/${videoId}/source`;
  await s3.send(new PutObjectCommand({ Bucket: LOCAL_RESOURCES.uploadsBucket, Key: key, Body: body }));
  return { videoId, key, size: body.length };
}

export async function videoRow(videoId: string) {
  return (await sharedKysely())
    .selectFrom('videos')
    .selectAll()
    .where('id', '=', videoId)
    .executeTakeFirstOrThrow();
}

/** The video's row once the pipeline has settled it (no longer `processing`). */
export async function settledRow(videoId: string, timeoutMs = 30_000) {
  return eventually(
    async () => {
      const row = await videoRow(videoId);
      if (row.status === 'processing') throw new Error('still processing');
      return row;
    },
    { timeoutMs, what: `video ${videoId} to settle` },
  );
}
