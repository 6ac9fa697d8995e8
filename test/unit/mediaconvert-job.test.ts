import { CreateJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { buildMediaConvertJob, mediaConvertOutputUris } from '#adapters/mediaconvert-job.ts';
import { planLadder } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';

const longPortrait: SourceFacts = {
  container: 'mov',
  durationSeconds: 1800,
  width: 720,
  height: 1280,
  frameRate: 29.97,
  hasAudio: true,
  videoCodec: 'hevc',
  audioCodec: 'aac',
  videoStreamIndex: 0,
  audioStreamIndex: 1,
};

const options = {
  inputS3Uri: 's3://uploads/sources/v_123/source.mov',
  outputS3Prefix: 's3://media/videos/v_123/',
  roleArn: 'arn:aws:iam::123456789012:role/mediaconvert',
  queueArn: 'arn:aws:mediaconvert:us-east-1:123456789012:queues/Default',
  userMetadata: { videoId: 'v_123', attempt: '1' },
};

const plan = planLadder(longPortrait);
const job = buildMediaConvertJob(plan, options);
const [hls, poster] = job.Settings?.OutputGroups ?? [];

describe('buildMediaConvertJob', () => {
  it('is a MediaConvert-path plan with the job-level fields carried through', () => {
    expect(plan.path).toBe('mediaconvert');
    expect(job).toMatchObject({
      Role: options.roleArn,
      Queue: options.queueArn,
      UserMetadata: { videoId: 'v_123', attempt: '1' },
      Settings: { Inputs: [{ FileInput: options.inputS3Uri, VideoSelector: { Rotate: 'AUTO' } }] },
    });
    expect(job.Settings?.OutputGroups).toHaveLength(2);
  });

  it('writes HLS with 4 s segments under the video prefix', () => {
    expect(hls?.OutputGroupSettings).toMatchObject({
      Type: 'HLS_GROUP_SETTINGS',
      HlsGroupSettings: { Destination: 's3://media/videos/v_123/master', SegmentLength: 4 },
    });
    expect(mediaConvertOutputUris(options.outputS3Prefix).master).toBe('s3://media/videos/v_123/master.m3u8');
  });

  it('has one output per rung at the planned size: portrait kept, never above the source', () => {
    const outputs = hls?.Outputs ?? [];
    expect(
      outputs.map((o) => [o.NameModifier, o.VideoDescription?.Width, o.VideoDescription?.Height]),
    ).toEqual([
      ['_720p', 720, 1280],
      ['_480p', 480, 854],
      ['_360p', 360, 640],
      ['_240p', 240, 426],
    ]);
    for (const o of outputs) {
      expect(o.VideoDescription!.Width!).toBeLessThanOrEqual(longPortrait.width);
      expect(o.VideoDescription!.Height!).toBeLessThanOrEqual(longPortrait.height);
    }
  });

  it('encodes H.264 with closed GOPs of exactly one segment, at the plan frame rate and bitrate ceiling', () => {
    for (const [i, o] of (hls?.Outputs ?? []).entries()) {
      const h264 = o.VideoDescription?.CodecSettings?.H264Settings;
      const rung = plan.renditions[i]!;
      expect(o.VideoDescription?.CodecSettings?.Codec).toBe('H_264');
      expect(h264).toMatchObject({
        CodecProfile: 'HIGH',
        RateControlMode: 'QVBR',
        MaxBitrate: rung.maxRate,
        HrdBufferSize: rung.bufSize,
        GopSize: 120,
        GopSizeUnits: 'FRAMES',
        GopClosedCadence: 1,
        FramerateNumerator: 30000,
        FramerateDenominator: 1001,
      });
      expect((h264!.GopSize! * h264!.FramerateDenominator!) / h264!.FramerateNumerator!).toBeCloseTo(4, 1);
      expect(o.AudioDescriptions?.[0]?.CodecSettings).toMatchObject({
        Codec: 'AAC',
        AacSettings: { Bitrate: rung.audioBitrate, SampleRate: 48000 },
      });
    }
    expect(hls?.Outputs?.[0]?.VideoDescription?.CodecSettings?.H264Settings?.CodecLevel).toBe('LEVEL_3_1');
  });

  it('captures the poster at the plan time, at the top rung size', () => {
    expect(poster?.OutputGroupSettings).toMatchObject({
      Type: 'FILE_GROUP_SETTINGS',
      FileGroupSettings: { Destination: 's3://media/videos/v_123/poster' },
    });
    const capture = poster?.Outputs?.[0]?.VideoDescription;
    expect(capture).toMatchObject({
      Width: 720,
      Height: 1280,
      CodecSettings: {
        Codec: 'FRAME_CAPTURE',
        FrameCaptureSettings: { FramerateNumerator: 1, FramerateDenominator: 450, MaxCaptures: 2 },
      },
    });
    expect(plan.poster.atSeconds).toBe(450);
    expect(mediaConvertOutputUris(options.outputS3Prefix).poster).toBe(
      's3://media/videos/v_123/poster.0000001.jpg',
    );
  });

  it('leaves audio out entirely for a silent source', () => {
    const silent = planLadder({ ...longPortrait, hasAudio: false, audioStreamIndex: undefined });
    const silentJob = buildMediaConvertJob(silent, { ...options, queueArn: undefined });
    expect(silentJob.Queue).toBeUndefined();
    expect(silentJob.Settings?.Inputs?.[0]?.AudioSelectors).toBeUndefined();
    for (const o of silentJob.Settings?.OutputGroups?.[0]?.Outputs ?? [])
      expect(o.AudioDescriptions).toBeUndefined();
  });

  it('rejects an output prefix that is not an s3:// folder', () => {
    expect(() =>
      buildMediaConvertJob(plan, { ...options, outputS3Prefix: 's3://media/videos/v_123' }),
    ).toThrow(/outputS3Prefix/);
  });

  it('is what a MediaConvertClient sends as CreateJob', async () => {
    const mediaConvert = mockClient(MediaConvertClient);
    mediaConvert
      .on(CreateJobCommand)
      .resolves({ Job: { Id: '1700000000000-abc123', Role: options.roleArn, Settings: {} } });
    const client = new MediaConvertClient({ region: 'us-east-1' });
    const out = await client.send(
      new CreateJobCommand(buildMediaConvertJob(plan, { ...options, clientRequestToken: 'v_123' })),
    );
    expect(out.Job?.Id).toBe('1700000000000-abc123');
    const calls = mediaConvert.commandCalls(CreateJobCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ ...job, ClientRequestToken: 'v_123' });
    mediaConvert.restore();
  });
});
