/**
 * The transcode worker's promises, one delivery at a time, against the local stack's real S3 and
 * database and real ffmpeg: a retry after a killed worker finishes cleanly, redelivery of a finished job
 * changes nothing, a duplicate that finishes after the video turned ready leaves what it published alone, the last failed attempt fails the video with its cause, and outputs of a video
 * deleted meanwhile are removed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { db } from '#adapters/db/index.ts';
import { PipelineVideos } from '#adapters/db/pipeline.ts';
import { probe } from '#adapters/ffmpeg/probe.ts';
import { transcodeFromStorage } from '#adapters/media-transcoder.ts';
import { planLadder } from '#core/media/ladder.ts';
import { validateSource } from '#core/media/probe.ts';
import { transcodeVideo } from '#core/pipeline.ts';
import { lambdaContext } from '#local/lambda-context.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { makeClip, makeMjpegSizeBomb } from '#test/helpers/media.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

jest.setTimeout(60_000);

describe('the transcode worker', () => {
  let runtime: TestRuntime;
  let s3: S3Client;
  let dir: string;
  let clipPath: string;
  let handler: (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'transcode-worker-'));
    clipPath = await makeClip(dir, 'clip.mp4', { width: 320, height: 180, seconds: 2 });
    runtime = await startTestRuntime();
    s3 = localS3Client(runtime.s3);
    ({ handler } = (await import('#events/transcode.ts')) as unknown as { handler: typeof handler });
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  /**
   * A processing video with its source stored and its plan recorded, as ingest leaves it, but taken
   * out of the runtime's own pipeline (its claim names another revision) so only this test drives it.
   */
  async function plannedVideo(options: { source?: boolean; videoStream?: number; file?: string } = {}) {
    const videoId = await seedVideo({ ownerId: 'alice', status: 'processing' });
    const file = options.file ?? clipPath;
    const body = await readFile(file);
    await sql`update videos set source_size = ${body.length}, ingested_revision = 'driven-by-test'
      where id = ${videoId}`.execute(await sharedKysely());
    if (options.source !== false) {
      await s3.send(
        new PutObjectCommand({
          Bucket: LOCAL_RESOURCES.uploadsBucket,
          Key: `uploads/${videoId}/source`,
          Body: body,
        }),
      );
    }
    const validation = validateSource(await probe(file));
    if (!validation.ok) throw new Error(validation.reason);
    const plan = planLadder(validation.source);
    if (options.videoStream !== undefined) plan.streams.video = options.videoStream;
    await new PipelineVideos(await db()).recordPlan(videoId, { source: validation.source, plan });
    return videoId;
  }

  const deliver = (videoId: string, receiveCount: number) =>
    handler(
      {
        Records: [
          {
            messageId: `m-${videoId}-${receiveCount}`,
            receiptHandle: 'r',
            body: JSON.stringify({ videoId }),
            attributes: {
              ApproximateReceiveCount: String(receiveCount),
              SentTimestamp: String(Date.now()),
              SenderId: 'test',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:transcode',
            awsRegion: 'us-east-1',
          },
        ],
      },
      lambdaContext('transcode', 900_000),
    );

  const mediaObjects = async (videoId: string) =>
    (
      await s3.send(
        new ListObjectsV2Command({ Bucket: LOCAL_RESOURCES.mediaBucket, Prefix: `videos/${videoId}/` }),
      )
    ).Contents ?? [];

  const putMedia = (videoId: string, relative: string, body: string) =>
    s3.send(
      new PutObjectCommand({
        Bucket: LOCAL_RESOURCES.mediaBucket,
        Key: `videos/${videoId}/${relative}`,
        Body: body,
      }),
    );

  const mediaText = async (videoId: string, relative: string) => {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: LOCAL_RESOURCES.mediaBucket, Key: `videos/${videoId}/${relative}` }),
    );
    return object.Body!.transformToString();
  };

  const row = async (videoId: string) =>
    (await sharedKysely())
      .selectFrom('videos')
      .selectAll()
      .where('id', '=', videoId)
      .executeTakeFirstOrThrow();

  it('finishes cleanly after a worker was killed mid-upload, replacing what it left', async () => {
    const videoId = await plannedVideo();
    // What a killed attempt leaves: part of the same ladder under the same keys (the plan is the
    // video's), here a playlist that ends early and a segment that is not the encode's.
    await putMedia(videoId, '240p/index.m3u8', '#EXTM3U\n#EXTINF:4,\nseg_00000.m4s\n');
    await putMedia(videoId, '240p/seg_00000.m4s', 'not this ladder');

    expect(await deliver(videoId, 2)).toEqual({ batchItemFailures: [] });
    const video = await row(videoId);
    expect(video.status).toBe('ready');
    const objects = await mediaObjects(videoId);
    const keys = objects.map((o) => o.Key);
    expect(keys).toContain(`videos/${videoId}/master.m3u8`);
    expect(keys).toContain(`videos/${videoId}/poster.jpg`);
    expect(objects.find((o) => o.Key === `videos/${videoId}/240p/seg_00000.m4s`)?.Size).toBeGreaterThan(
      1_000,
    );
    expect(await mediaText(videoId, '240p/index.m3u8')).toContain('#EXT-X-ENDLIST');
    const renditions = await (await sharedKysely())
      .selectFrom('renditions')
      .selectAll()
      .where('video_id', '=', videoId)
      .execute();
    expect(renditions.map((r) => r.name)).toEqual(['240p']);
  });

  it('leaves a ready video alone when a duplicate delivery finishes after it turned ready', async () => {
    const videoId = await plannedVideo();
    const store = new PipelineVideos(await db());
    // The duplicate read the video while it was still processing; the first delivery then finished.
    const seen = await store.find(videoId);
    await deliver(videoId, 1);
    expect((await row(videoId)).status).toBe('ready');
    // Since then a caption track was listed in the master and a poster time chosen.
    const captioned = `${await mediaText(videoId, 'master.m3u8')}#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",URI="captions/c.m3u8"\n`;
    await putMedia(videoId, 'master.m3u8', captioned);
    await putMedia(videoId, 'poster.jpg', 'the chosen poster');
    const before = (await mediaObjects(videoId)).map((o) => o.Key);

    let reads = 0;
    const late = Object.assign(Object.create(store) as PipelineVideos, {
      find: async (id: string) => (reads++ === 0 ? seen : store.find(id)),
    });
    const outcome = await transcodeVideo(
      {
        store: late,
        transcode: (video) => transcodeFromStorage(video, { timeoutMs: 300_000 }),
        removeMedia: async () => {
          throw new Error('nothing of a ready video may be removed');
        },
      },
      videoId,
    );

    expect(outcome).toBe('ignored: video became ready meanwhile');
    expect(await mediaText(videoId, 'master.m3u8')).toBe(captioned);
    expect(await mediaText(videoId, 'poster.jpg')).toBe('the chosen poster');
    // Nothing was removed (the derivatives worker may have added its storyboard meanwhile).
    expect((await mediaObjects(videoId)).map((o) => o.Key)).toEqual(expect.arrayContaining(before));
    expect((await row(videoId)).status).toBe('ready');
  });

  it('does nothing when a finished job is delivered again', async () => {
    const videoId = await plannedVideo();
    await deliver(videoId, 1);
    const before = await mediaObjects(videoId);
    expect(await deliver(videoId, 1)).toEqual({ batchItemFailures: [] });
    const after = await mediaObjects(videoId);
    expect(after.map((o) => [o.Key, o.LastModified?.getTime()])).toEqual(
      before.map((o) => [o.Key, o.LastModified?.getTime()]),
    );
    expect((await row(videoId)).status).toBe('ready');
  });

  it('retries a failure of ours, and fails the video with the cause on the last attempt', async () => {
    // Mapping a stream the file does not have makes ffmpeg itself fail: a tool error, not the file's.
    const videoId = await plannedVideo({ videoStream: 7 });
    // A batch whose every record failed is rejected as a whole: SQS retries the message.
    await expect(deliver(videoId, 1)).rejects.toThrow(/All records failed/);
    expect((await row(videoId)).status).toBe('processing');

    // The last attempt still fails (the message goes to the DLQ for an operator), and says why.
    await expect(deliver(videoId, 3)).rejects.toThrow(/All records failed/);
    const video = await row(videoId);
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toMatch(
      /^processing failed: transcoding did not succeed after 3 attempts \(transcode failed: .+\); upload the video again/,
    );
  });

  it('fails at once when the file itself cannot be decoded: no retry of a deterministic failure', async () => {
    // Planned from its header alone (as ingest did before it decoded a first frame): a 16x16 MJPEG
    // whose every JPEG says 16000x16000.
    const videoId = await plannedVideo({ file: await makeMjpegSizeBomb(dir, 'sof.mov') });
    expect(await deliver(videoId, 1)).toEqual({ batchItemFailures: [] });
    const video = await row(videoId);
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toMatch(
      /^(could not be decoded: .+; export it again \(for example as H\.264 MP4\) and upload the new file|resolution 16000x16000 is over the 7680x4320 limit)$/,
    );
    expect(await mediaObjects(videoId)).toEqual([]);
  });

  it('fails at once, with a reason, when the source is gone', async () => {
    const videoId = await plannedVideo({ source: false });
    expect(await deliver(videoId, 1)).toEqual({ batchItemFailures: [] });
    const video = await row(videoId);
    expect(video.status).toBe('failed');
    expect(video.failure_reason).toBe('the uploaded file is no longer in storage; upload the video again');
  });

  it('removes the outputs of a video deleted meanwhile', async () => {
    const videoId = await plannedVideo();
    await putMedia(videoId, 'master.m3u8', '#EXTM3U\n');
    await sql`update videos set deleted_at = now() where id = ${videoId}`.execute(await sharedKysely());
    expect(await deliver(videoId, 1)).toEqual({ batchItemFailures: [] });
    expect(await mediaObjects(videoId)).toEqual([]);
    expect((await row(videoId)).status).toBe('processing');
  });
});
