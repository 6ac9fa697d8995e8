/**
 * The MediaConvert job for sources too long for the ffmpeg Lambda: the same ladder as the ffmpeg path
 * (sizes, bitrate ceilings, profile/level, 4 s segments on aligned closed GOPs, AAC), plus the poster.
 * Pure data, kept beside the adapter that sends it (lambdas/adapters/mediaconvert.ts) because its types
 * are the SDK's, and core imports nothing from AWS.
 *
 * MediaConvert's HLS output group writes MPEG-TS segments (fMP4 would need a CMAF group, which demands
 * separate audio-only outputs). Players don't care which path made a video: both are H.264/AAC HLS with
 * the master at `<prefix>master.m3u8`, written by MediaConvert at the end of the job.
 */
import type {
  CreateJobCommandInput,
  H264CodecLevel,
  Output,
  OutputGroup,
} from '@aws-sdk/client-mediaconvert';
import type { H264Level, PlannedRendition, TranscodePlan } from '#core/media/ladder.ts';

export interface MediaConvertJobOptions {
  /** s3://uploads-bucket/key of the validated source. */
  inputS3Uri: string;
  /** s3://media-bucket/videos/{id}/ (with the trailing slash). */
  outputS3Prefix: string;
  roleArn: string;
  queueArn?: string;
  /** Carried to the job's EventBridge state-change events, e.g. the video id. */
  userMetadata: Record<string, string>;
  /** Makes CreateJob idempotent when the ingest message is delivered more than once (SQS is at-least-once). */
  clientRequestToken?: string;
}

const AUDIO_SELECTOR = 'Audio Selector 1';

/** Declared, not AUTO, so both paths publish the same CODECS for a rung. */
const CODEC_LEVEL: Record<H264Level, H264CodecLevel> = {
  '3.0': 'LEVEL_3',
  '3.1': 'LEVEL_3_1',
  '3.2': 'LEVEL_3_2',
  '4.0': 'LEVEL_4',
  '4.1': 'LEVEL_4_1',
  '4.2': 'LEVEL_4_2',
  '5.0': 'LEVEL_5',
  '5.1': 'LEVEL_5_1',
  '5.2': 'LEVEL_5_2',
};
/** AWS's suggested QVBR quality for 720p/1080p streaming: visually good, without wasting bits on easy scenes. */
const QVBR_QUALITY = 7;

/** Where the job's playable outputs land, for whoever handles its COMPLETE event. */
export function mediaConvertOutputUris(outputS3Prefix: string): { master: string; poster: string } {
  // Frame capture names files <destination>.NNNNNNN.jpg; capture 0 is the first frame, 1 is our poster.
  return { master: `${outputS3Prefix}master.m3u8`, poster: `${outputS3Prefix}poster.0000001.jpg` };
}

export function buildMediaConvertJob(
  plan: TranscodePlan,
  options: MediaConvertJobOptions,
): CreateJobCommandInput {
  if (!/^s3:\/\/[^/]+\/.*\/$/.test(options.outputS3Prefix)) {
    throw new Error(`outputS3Prefix must look like s3://bucket/prefix/, got ${options.outputS3Prefix}`);
  }
  const hasAudio = plan.streams.audio !== null;
  return {
    Role: options.roleArn,
    ...(options.queueArn ? { Queue: options.queueArn } : {}),
    ...(options.clientRequestToken ? { ClientRequestToken: options.clientRequestToken } : {}),
    UserMetadata: { ...options.userMetadata },
    StatusUpdateInterval: 'SECONDS_60',
    Settings: {
      TimecodeConfig: { Source: 'ZEROBASED' },
      Inputs: [
        {
          FileInput: options.inputS3Uri,
          TimecodeSource: 'ZEROBASED',
          // Phones store portrait video as rotated landscape; the plan's sizes are already upright.
          VideoSelector: { Rotate: 'AUTO' },
          // The first audio track, as the ffmpeg path maps the first audio stream.
          ...(hasAudio
            ? {
                AudioSelectors: {
                  [AUDIO_SELECTOR]: { DefaultSelection: 'DEFAULT', SelectorType: 'TRACK', Tracks: [1] },
                },
              }
            : {}),
        },
      ],
      OutputGroups: [
        hlsGroup(plan, options.outputS3Prefix, hasAudio),
        posterGroup(plan, options.outputS3Prefix),
      ],
    },
  };
}

function hlsGroup(plan: TranscodePlan, prefix: string, hasAudio: boolean): OutputGroup {
  return {
    Name: 'HLS',
    OutputGroupSettings: {
      Type: 'HLS_GROUP_SETTINGS',
      HlsGroupSettings: {
        Destination: `${prefix}master`,
        SegmentLength: plan.segmentSeconds,
        // Our GOP is exactly one segment long, so cutting on GOP multiples never adds extra I-frames.
        SegmentLengthControl: 'GOP_MULTIPLE',
        MinSegmentLength: 0,
        SegmentControl: 'SEGMENTED_FILES',
        OutputSelection: 'MANIFESTS_AND_SEGMENTS',
        // The master appears only when the whole ladder is done.
        ProgressiveWriteHlsManifest: 'DISABLED',
        ManifestDurationFormat: 'FLOATING_POINT',
        CodecSpecification: 'RFC_6381',
        StreamInfResolution: 'INCLUDE',
        DirectoryStructure: 'SINGLE_DIRECTORY',
        ProgramDateTime: 'EXCLUDE',
        ClientCache: 'ENABLED',
      },
    },
    Outputs: plan.renditions.map((r) => hlsOutput(plan, r, hasAudio)),
  };
}

function hlsOutput(plan: TranscodePlan, r: PlannedRendition, hasAudio: boolean): Output {
  return {
    NameModifier: `_${r.name}`,
    ContainerSettings: { Container: 'M3U8', M3u8Settings: {} },
    OutputSettings: { HlsSettings: {} },
    VideoDescription: {
      Width: r.width,
      Height: r.height,
      ScalingBehavior: 'DEFAULT',
      AntiAlias: 'ENABLED',
      CodecSettings: {
        Codec: 'H_264',
        H264Settings: {
          CodecProfile: 'HIGH',
          CodecLevel: CODEC_LEVEL[r.level],
          RateControlMode: 'QVBR',
          QvbrSettings: { QvbrQualityLevel: QVBR_QUALITY },
          MaxBitrate: r.maxRate,
          HrdBufferSize: r.bufSize,
          QualityTuningLevel: 'SINGLE_PASS_HQ',
          FramerateControl: 'SPECIFIED',
          FramerateNumerator: plan.frameRate.numerator,
          FramerateDenominator: plan.frameRate.denominator,
          FramerateConversionAlgorithm: 'DUPLICATE_DROP',
          GopSize: plan.gopFrames,
          GopSizeUnits: 'FRAMES',
          // Every GOP closed: each segment decodes on its own, and every rendition switches on the same frame.
          GopClosedCadence: 1,
          // Scene-change I-frames are added on top of the fixed cadence, so segment alignment is kept.
          SceneChangeDetect: 'TRANSITION_DETECTION',
          InterlaceMode: 'PROGRESSIVE',
          ParControl: 'SPECIFIED',
          ParNumerator: 1,
          ParDenominator: 1,
        },
      },
    },
    ...(hasAudio
      ? {
          AudioDescriptions: [
            {
              AudioSourceName: AUDIO_SELECTOR,
              CodecSettings: {
                Codec: 'AAC',
                AacSettings: {
                  Bitrate: r.audioBitrate,
                  CodingMode: 'CODING_MODE_2_0',
                  SampleRate: 48000,
                  CodecProfile: 'LC',
                  RateControlMode: 'CBR',
                },
              },
            },
          ],
        }
      : {}),
  };
}

/**
 * Frame capture cannot seek to one instant; it samples at a rate. Capturing at 1/atSeconds fps with two
 * captures gives the first frame and the frame at the plan's poster time (a quarter of the way in).
 */
function posterGroup(plan: TranscodePlan, prefix: string): OutputGroup {
  return {
    Name: 'Poster',
    OutputGroupSettings: {
      Type: 'FILE_GROUP_SETTINGS',
      FileGroupSettings: { Destination: `${prefix}poster` },
    },
    Outputs: [
      {
        ContainerSettings: { Container: 'RAW' },
        Extension: 'jpg',
        VideoDescription: {
          Width: plan.poster.width,
          Height: plan.poster.height,
          CodecSettings: {
            Codec: 'FRAME_CAPTURE',
            FrameCaptureSettings: {
              FramerateNumerator: 1,
              FramerateDenominator: Math.max(1, Math.round(plan.poster.atSeconds)),
              MaxCaptures: 2,
              Quality: 80,
            },
          },
        },
      },
    ],
  };
}
