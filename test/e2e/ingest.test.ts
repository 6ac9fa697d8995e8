import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SQSRecord } from 'aws-lambda';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { waitBeforeRetrySeconds } from '#events/attempts.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { until } from '#test/helpers/eventually.ts';
import { makeClip, makeTimestampBomb } from '#test/helpers/media.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { settledRow, videoRow, videoWithSource } from '#test/helpers/seed.ts';

/** S3 delivers at least once and not always in order: the ingest handler must still start one job. */
describe('the ingest handler', () => {
  let runtime: TestRuntime;
  let s3: S3Client;
  let dir: string;
  let clip: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-test-'));
    clip = await readFile(await makeClip(dir, 'tiny.mp4', { width: 160, height: 90, seconds: 1 }));
    runtime = await startTestRuntime();
    s3 = localS3Client(runtime.s3);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const event = (key: string, sequencer: string, size: number) =>
    JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:CompleteMultipartUpload',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: {
              name: LOCAL_RESOURCES.uploadsBucket,
              arn: `arn:aws:s3:::${LOCAL_RESOURCES.uploadsBucket}`,
            },
            object: { key, size, eTag: 'abc-1', sequencer },
          },
        },
      ],
    });

  /** A processing video whose source is `body`: junk bytes of a size, or a real clip. */
  const processingVideoWithSource = (body: number | Buffer, declaredSize?: number) =>
    videoWithSource(s3, typeof body === 'number' ? Buffer.alloc(body, 7) : body, 'processing', declaredSize);

  const transcodeJobsFor = (videoId: string) =>
    runtime.queues
      .sent('transcode')
      .filter((body) => (JSON.parse(body) as { videoId: string }).videoId === videoId).length;

  const delivery = (receiveCount: number) =>
    ({ attributes: { ApproximateReceiveCount: String(receiveCount) } }) as SQSRecord;

  const drained = () =>
    until(() => runtime.queues.depth('ingest') === 0, {
      timeoutMs: 15_000,
      what: 'the ingest queue to drain',
    });

  it('starts one job for a duplicated and reordered event, and the video becomes ready', async () => {
    const { videoId, key, size } = await processingVideoWithSource(clip);
    // The PUT above already produced one real event; add duplicates, an older sequencer, and a newer one.
    for (const sequencer of [
      '0055AED6DCD90281E5',
      '0055AED6DCD90281E5',
      '0055AED6DCD90281E4',
      '0055AED6DCD90281E6',
    ]) {
      runtime.queues.send('ingest', event(key, sequencer, size));
    }
    await drained();
    expect(transcodeJobsFor(videoId)).toBe(1);
    expect(runtime.queues.depth('ingest-dlq')).toBe(0);
    const video = await settledRow(videoId);
    expect(video).toMatchObject({ status: 'ready', width: 160, height: 90, failure_reason: null });
    expect(video.master_playlist_key).toBe(`videos/${videoId}/master.m3u8`);
  });

  it('finishes the job of a worker that died after claiming the video', async () => {
    const { videoId, key, size } = await processingVideoWithSource(clip);
    // The S3 event of the PUT is in flight; a revision claimed by a dead earlier attempt must not block.
    await sql`update videos set ingested_revision = ${'0055AED6DCD9028777'} where id = ${videoId}`.execute(
      await sharedKysely(),
    );
    runtime.queues.send('ingest', event(key, '0055AED6DCD9028777', size));
    expect((await settledRow(videoId)).status).toBe('ready');
    expect(transcodeJobsFor(videoId)).toBe(1);
  });

  it('waits for the API when the S3 event overtakes the complete call', async () => {
    const { videoId, key } = await videoWithSource(s3, clip, 'uploading');
    // The handler has seen the event and put it back to retry soon (its wait, not the queue's 12-minute
    // visibility timeout): the video must not be dropped, failed or started while it is `uploading`.
    const putBack = () =>
      runtime.queues
        .inspect('ingest')
        .some(
          (m) =>
            m.body.includes(key) &&
            m.receiveCount >= 1 &&
            m.visibleAt <= Date.now() + waitBeforeRetrySeconds(delivery(m.receiveCount)) * 1000,
        );
    await until(putBack, { timeoutMs: 15_000, what: 'the ingest handler to put the early event back' });
    expect((await videoRow(videoId)).status).toBe('uploading');
    await sql`update videos set status = 'processing' where id = ${videoId}`.execute(await sharedKysely());
    expect((await settledRow(videoId)).status).toBe('ready');
  });

  it('fails a source that is not a video with a reason, and queues no transcode', async () => {
    const { videoId } = await processingVideoWithSource(4096);
    const video = await settledRow(videoId);
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toMatch(/^unreadable: /);
    expect(transcodeJobsFor(videoId)).toBe(0);
  });

  it('refuses a source whose timestamps claim hours its frames do not hold, deletes it, and queues nothing', async () => {
    const bomb = await readFile(await makeTimestampBomb(dir, 'bomb.mkv'));
    const { videoId, key } = await processingVideoWithSource(bomb);
    const video = await settledRow(videoId);
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toMatch(/^declared 3h53m\d*s? but holds 120 frames .*timestamps are broken/);
    expect(transcodeJobsFor(videoId)).toBe(0);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: LOCAL_RESOURCES.uploadsBucket, Key: key })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('fails the video with a reason when the stored size differs from the declared one', async () => {
    // Declared before the object lands: storing it starts the ingest (the local S3 notification).
    const { videoId, key } = await processingVideoWithSource(1000, 5000);
    runtime.queues.send('ingest', event(key, '0055AED6DCD9028200', 1000));
    await drained();
    const video = await (await sharedKysely())
      .selectFrom('videos')
      .selectAll()
      .where('id', '=', videoId)
      .executeTakeFirstOrThrow();
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toBe(
      'the uploaded file is 1000 bytes but the upload declared 5000; upload the file again',
    );
    expect(transcodeJobsFor(videoId)).toBe(0);
  });

  it('ignores keys that are not upload sources, test events, and other buckets', async () => {
    const before = runtime.queues.sent('transcode').length;
    runtime.queues.send(
      'ingest',
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'x' }),
    );
    runtime.queues.send('ingest', event('uploads/not-a-video/source', '01', 10));
    runtime.queues.send('ingest', event('elsewhere/file.mp4', '02', 10));
    await drained();
    expect(runtime.queues.sent('transcode').length).toBe(before);
    expect(runtime.queues.depth('ingest-dlq')).toBe(0);
  });

  it('sends a poison message to the DLQ after its retries, without holding up good ones', async () => {
    const dead = runtime.queues.depth('ingest-dlq');
    runtime.queues.send('ingest', '{ this is not json');
    const { videoId } = await processingVideoWithSource(clip);
    expect((await settledRow(videoId)).status).toBe('ready');
    await until(() => runtime.queues.depth('ingest-dlq') > dead, {
      timeoutMs: 10_000,
      what: 'the poison message in the DLQ',
    });
    expect(runtime.queues.depth('ingest-dlq')).toBe(dead + 1);
  });
});
