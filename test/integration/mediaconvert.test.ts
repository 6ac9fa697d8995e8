/**
 * The MediaConvert path on the local stack: MediaConvert itself has no local stand-in, so CreateJob is
 * mocked (aws-sdk-client-mock) and its end arrives as recorded EventBridge events; everything else (S3
 * event, scan, ffprobe, plan, database, status handler, playback) is real.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { until } from '#test/helpers/eventually.ts';
import { makeClip } from '#test/helpers/media.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { videoRow, videoWithSource } from '#test/helpers/seed.ts';

const ROLE_ARN = 'arn:aws:iam::111122223333:role/videocloud-mediaconvert';
const mediaConvert = mockClient(MediaConvertClient);

describe('long sources go to MediaConvert', () => {
  let runtime: TestRuntime;
  let s3: S3Client;
  let dir: string;
  let clip: Buffer;
  let handler: (event: EventBridgeEvent<'MediaConvert Job State Change', unknown>) => Promise<void>;

  beforeAll(async () => {
    // Anything over 2 s is "long" here, so a tiny clip takes the MediaConvert path.
    process.env.MEDIACONVERT_ROLE_ARN = ROLE_ARN;
    process.env.FFMPEG_MAX_SECONDS = '2';
    mediaConvert.on(CreateJobCommand).callsFake((input: { ClientRequestToken?: string }) => ({
      Job: { Id: `job-${input.ClientRequestToken}` },
    }));
    dir = await mkdtemp(path.join(tmpdir(), 'mediaconvert-test-'));
    clip = await readFile(await makeClip(dir, 'three.mp4', { width: 320, height: 180, seconds: 3 }));
    runtime = await startTestRuntime();
    s3 = localS3Client(runtime.s3);
    ({ handler } = await import('#events/mediaconvert-status.ts'));
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
    delete process.env.MEDIACONVERT_ROLE_ARN;
    delete process.env.FFMPEG_MAX_SECONDS;
  }, 60_000);

  async function planned(): Promise<string> {
    const { videoId } = await videoWithSource(s3, clip);
    await until(
      () => mediaConvert.commandCalls(CreateJobCommand).some((c) => jobVideo(c.args[0].input) === videoId),
      { timeoutMs: 20_000, what: 'a MediaConvert job for the video' },
    );
    return videoId;
  }

  const jobVideo = (input: { UserMetadata?: Record<string, string> }) => input.UserMetadata?.videoId;

  async function recorded(name: 'complete' | 'error', videoId: string, stage = 'local') {
    const text = await readFile(path.resolve('test/fixtures/mediaconvert', `${name}.json`), 'utf8');
    const event = JSON.parse(text.replaceAll('__VIDEO_ID__', videoId)) as EventBridgeEvent<
      'MediaConvert Job State Change',
      { userMetadata: Record<string, string> }
    >;
    event.detail.userMetadata.videocloudStage = stage;
    return event;
  }

  it('plans once, starts one job with the plan, and queues no ffmpeg transcode', async () => {
    const videoId = await planned();
    const calls = mediaConvert
      .commandCalls(CreateJobCommand)
      .filter((c) => jobVideo(c.args[0].input) === videoId);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.Role).toBe(ROLE_ARN);
    expect(input.UserMetadata).toEqual({ videoId, videocloudStage: 'local' });
    expect(input.ClientRequestToken).toMatch(new RegExp(`^${videoId}-`));
    expect(input.Settings?.Inputs?.[0]?.FileInput).toBe(
      `s3://${LOCAL_RESOURCES.uploadsBucket}/uploads/${videoId}/source`,
    );
    expect(runtime.queues.sent('transcode').some((body) => body.includes(videoId))).toBe(false);
    const row = await videoRow(videoId);
    expect(row).toMatchObject({ status: 'processing', width: 320, height: 180 });
    expect((row.probe as { plan: { path: string } }).plan.path).toBe('mediaconvert');
  });

  it('COMPLETE makes the video ready with the planned renditions and a playback URL', async () => {
    const videoId = await planned();
    await handler(await recorded('complete', videoId));
    const response = await runtime.api(`/v1/videos/${videoId}`);
    expect(response.status).toBe(200);
    const video = (await response.json()) as {
      status: string;
      renditions: Array<{ name: string; width: number; height: number }>;
      playback: { hls: string } | null;
    };
    expect(video.status).toBe('ready');
    expect(video.renditions).toEqual([expect.objectContaining({ name: '240p', width: 320, height: 180 })]);
    expect(new URL(video.playback!.hls).pathname).toMatch(
      new RegExp(`^/cdn/t/[^/]+/videos/${videoId}/master\\.m3u8$`),
    );

    // A redelivered event, or a late ERROR for the same video, changes nothing.
    await handler(await recorded('complete', videoId));
    await handler(await recorded('error', videoId));
    expect((await videoRow(videoId)).status).toBe('ready');
  });

  it("ERROR fails the video with MediaConvert's reason", async () => {
    const videoId = await planned();
    await handler(await recorded('error', videoId));
    const row = await videoRow(videoId);
    expect(row.status).toBe('failed');
    expect(row.failure_reason).toBe(
      'transcoding failed: Video codec [indeo4] is not a supported input video codec (MediaConvert error 1030)',
    );
  });

  it("ignores another deployment's jobs", async () => {
    const videoId = await planned();
    await handler(await recorded('complete', videoId, 'prod'));
    expect((await videoRow(videoId)).status).toBe('processing');
  });
});
