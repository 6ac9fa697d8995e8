/**
 * Deleting a video removes its source and its media, through the API and the cleanup queue; the hourly
 * sweep catches deletions whose hand-off was lost; a cleanup message never touches a live video.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { until } from '#test/helpers/eventually.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

describe('media cleanup', () => {
  let runtime: TestRuntime;
  let s3: S3Client;
  let alice: string;
  beforeAll(async () => {
    runtime = await startTestRuntime();
    alice = await runtime.token('alice', ['creator']);
    s3 = localS3Client(runtime.s3);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
  }, 60_000);

  /** A ready video with a source and a small ladder in storage. */
  async function storedVideo(): Promise<string> {
    const videoId = await seedVideo({ ownerId: 'alice', status: 'ready' });
    const put = (bucket: string, key: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    await put(LOCAL_RESOURCES.uploadsBucket, `uploads/${videoId}/source`);
    for (const key of [
      'master.m3u8',
      '240p/index.m3u8',
      '240p/init.mp4',
      '240p/seg_00000.m4s',
      'poster.jpg',
    ]) {
      await put(LOCAL_RESOURCES.mediaBucket, `videos/${videoId}/${key}`);
    }
    return videoId;
  }

  const stored = async (videoId: string) => {
    const count = async (bucket: string, prefix: string) =>
      (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).KeyCount ?? 0;
    return (
      (await count(LOCAL_RESOURCES.uploadsBucket, `uploads/${videoId}/`)) +
      (await count(LOCAL_RESOURCES.mediaBucket, `videos/${videoId}/`))
    );
  };

  const removed = (videoId: string) =>
    until(async () => (await stored(videoId)) === 0, {
      timeoutMs: 10_000,
      what: `the objects of ${videoId} to be removed`,
    });

  const removedAt = async (videoId: string) =>
    (
      await (
        await sharedKysely()
      )
        .selectFrom('videos')
        .select('media_removed_at')
        .where('id', '=', videoId)
        .executeTakeFirstOrThrow()
    ).media_removed_at;

  it('DELETE hides the video at once and removes its source and media', async () => {
    const videoId = await storedVideo();
    expect(await stored(videoId)).toBe(6);
    const response = await runtime.api(`/v1/videos/${videoId}`, { method: 'DELETE', token: alice });
    expect(response.status).toBe(204);
    expect((await runtime.api(`/v1/videos/${videoId}`, { token: alice })).status).toBe(404);
    await removed(videoId);
    await until(async () => (await removedAt(videoId)) !== null, {
      timeoutMs: 5_000,
      what: 'media_removed_at to be set',
    });
  });

  it('the sweep re-queues a deletion whose hand-off was lost', async () => {
    const { handler } = await import('#events/cleanup-sweeper.ts');
    const lost = await storedVideo();
    const fresh = await storedVideo();
    // Deleted without a cleanup message: one long ago, one just now (still within the hand-off's grace).
    await sql`update videos set deleted_at = now() - interval '20 minutes' where id = ${lost}`.execute(
      await sharedKysely(),
    );
    await sql`update videos set deleted_at = now() where id = ${fresh}`.execute(await sharedKysely());
    const { queued } = await handler();
    expect(queued).toBeGreaterThanOrEqual(1);
    await removed(lost);
    expect(await stored(fresh)).toBe(6);
  });

  it('a cleanup message for a live video removes nothing', async () => {
    const videoId = await storedVideo();
    runtime.queues.send('media-cleanup', JSON.stringify({ videoId }));
    // Depth counts messages in flight too: at 0 the consumer has handled the message and deleted it.
    await until(() => runtime.queues.depth('media-cleanup') === 0, {
      timeoutMs: 5_000,
      what: 'the cleanup message to be handled',
    });
    expect(await stored(videoId)).toBe(6);
    expect(await removedAt(videoId)).toBeNull();
  });
});
