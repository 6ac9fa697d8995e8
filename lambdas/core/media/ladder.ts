/**
 * The rendition ladder: which H.264/AAC HLS renditions to make from a validated source, and the encoder
 * settings both transcoders (ffmpeg in Lambda, MediaConvert) follow, so either path yields the same ladder.
 */
import type { SourceFacts } from './probe.ts';

export type RenditionName = '1080p' | '720p' | '480p' | '360p' | '240p';

export interface Rational {
  numerator: number;
  denominator: number;
}

export interface PlannedRendition {
  /**
   * The tier, named by the short side (a 1080x1920 portrait rung is "1080p"). A source smaller than the
   * lowest tier gets a single "240p" rung at its own size: width/height are always the real dimensions.
   */
  name: RenditionName;
  width: number;
  height: number;
  /** Target average video bitrate, bits per second. */
  videoBitrate: number;
  /** VBV ceiling and buffer, bits per second / bits. */
  maxRate: number;
  bufSize: number;
  /** 0 when the source has no audio. */
  audioBitrate: number;
  profile: 'high';
  /** H.264 level, e.g. "3.1". */
  level: H264Level;
  /** RFC 6381 CODECS value for the HLS master playlist, e.g. "avc1.64001f,mp4a.40.2". */
  codecs: string;
}

export interface TranscodePlan {
  /** Highest first, strictly descending. */
  renditions: PlannedRendition[];
  /** Output frame rate: the source's, snapped to a broadcast rate and brought to 60 fps or less. */
  frameRate: Rational;
  /** Keyframe interval = segmentSeconds × frame rate, so every rendition's segments start on the same IDR. */
  gopFrames: number;
  segmentSeconds: 4;
  /** The poster is a frame a quarter of the way in: the first frame is often black or a title card. */
  poster: { atSeconds: number; width: number; height: number };
  thumbnail: { width: number; height: number };
  path: 'ffmpeg' | 'mediaconvert';
  sourceDurationSeconds: number;
  /** Absolute input stream indexes to map; audio is null when the source has none. */
  streams: { video: number; audio: number | null };
}

export interface PlanOptions {
  /** Sources up to this long are transcoded by ffmpeg in Lambda; longer ones go to MediaConvert. */
  ffmpegMaxDurationSeconds?: number;
}

const SEGMENT_SECONDS = 4;
const MAX_OUTPUT_FPS = 60;
const THUMBNAIL_WIDTH = 320;

interface Tier {
  name: RenditionName;
  short: number;
  /** The 16:9 reference frame the base bitrate is tuned for. */
  referencePixels: number;
  /** Video bitrate at ≤30 fps for the reference frame, bits per second. */
  videoBitrate: number;
  audioBitrate: number;
}

const TIERS: readonly Tier[] = [
  {
    name: '1080p',
    short: 1080,
    referencePixels: 1920 * 1080,
    videoBitrate: 5_000_000,
    audioBitrate: 128_000,
  },
  { name: '720p', short: 720, referencePixels: 1280 * 720, videoBitrate: 3_000_000, audioBitrate: 128_000 },
  { name: '480p', short: 480, referencePixels: 854 * 480, videoBitrate: 1_400_000, audioBitrate: 128_000 },
  { name: '360p', short: 360, referencePixels: 640 * 360, videoBitrate: 800_000, audioBitrate: 96_000 },
  { name: '240p', short: 240, referencePixels: 426 * 240, videoBitrate: 400_000, audioBitrate: 64_000 },
];

/**
 * A tier is kept when the source's short side is at least 95% of it, and then made at the source's size:
 * a 1920x1078 screen recording still gets a "1080p" rung (at 1078) instead of topping out at 720p.
 */
const TIER_TOLERANCE = 0.95;

export function planLadder(source: SourceFacts, options: PlanOptions = {}): TranscodePlan {
  const frameRate = outputFrameRate(source.frameRate);
  const fps = frameRate.numerator / frameRate.denominator;
  const renditions = rungSizes(source.width, source.height).map(({ tier, width, height }) =>
    planRendition(tier, width, height, fps, source.hasAudio),
  );
  const top = renditions[0]!;
  return {
    renditions,
    frameRate,
    gopFrames: Math.max(1, Math.round(SEGMENT_SECONDS * fps)),
    segmentSeconds: SEGMENT_SECONDS,
    poster: { atSeconds: posterTime(source.durationSeconds), width: top.width, height: top.height },
    thumbnail: fitWidth(top.width, top.height, THUMBNAIL_WIDTH),
    path: source.durationSeconds <= (options.ffmpegMaxDurationSeconds ?? 600) ? 'ffmpeg' : 'mediaconvert',
    sourceDurationSeconds: source.durationSeconds,
    streams: { video: source.videoStreamIndex, audio: source.audioStreamIndex ?? null },
  };
}

const floorEven = (n: number) => 2 * Math.floor(n / 2);
const roundEven = (n: number) => 2 * Math.round(n / 2);

/** Sizes per tier, by the short side, keeping orientation; never larger than the source in either side. */
function rungSizes(width: number, height: number): Array<{ tier: Tier; width: number; height: number }> {
  const srcShort = Math.min(width, height);
  const srcLong = Math.max(width, height);
  const landscape = width >= height;
  const size = (short: number) => {
    const long = Math.min(floorEven(srcLong), Math.max(2, roundEven((srcLong * short) / srcShort)));
    return landscape ? { width: long, height: short } : { width: short, height: long };
  };
  const fitting = TIERS.filter((t) => srcShort >= t.short * TIER_TOLERANCE);
  if (fitting.length === 0) {
    return [{ tier: TIERS[TIERS.length - 1]!, ...size(Math.max(2, floorEven(srcShort))) }];
  }
  return fitting.map((tier) => ({ tier, ...size(floorEven(Math.min(tier.short, srcShort))) }));
}

function planRendition(
  tier: Tier,
  width: number,
  height: number,
  fps: number,
  hasAudio: boolean,
): PlannedRendition {
  // Bits scale roughly with pixels per second: a 4:3 or ultra-wide frame at the same short side has a
  // different area from the 16:9 reference, and 60 fps needs about 1.5× the bits of 30 fps, not 2×.
  const area = Math.min(4, Math.max(0.25, (width * height) / tier.referencePixels));
  const motion = 1 + 0.5 * Math.min(1, Math.max(0, (fps - 30) / 30));
  const videoBitrate = Math.round((tier.videoBitrate * area * motion) / 1000) * 1000;
  // Capped VBR: peaks up to 1.25× the average, with two seconds of buffer at the average rate.
  const maxRate = Math.round(videoBitrate * 1.25);
  const bufSize = videoBitrate * 2;
  const audioBitrate = hasAudio ? tier.audioBitrate : 0;
  const level = h264Level(width, height, fps, maxRate, bufSize);
  return {
    name: tier.name,
    width,
    height,
    videoBitrate,
    maxRate,
    bufSize,
    audioBitrate,
    profile: 'high',
    level,
    codecs: rfc6381Codecs(level, hasAudio),
  };
}

export type H264Level = '3.0' | '3.1' | '3.2' | '4.0' | '4.1' | '4.2' | '5.0' | '5.1' | '5.2';

/** ITU-T H.264 Table A-1: macroblocks/s, frame size in macroblocks, max bitrate and CPB (kbit, ×1.25 for High). */
const LEVELS: ReadonlyArray<{ level: H264Level; mbps: number; fs: number; br: number; cpb: number }> = [
  { level: '3.0', mbps: 40_500, fs: 1_620, br: 10_000, cpb: 10_000 },
  { level: '3.1', mbps: 108_000, fs: 3_600, br: 14_000, cpb: 14_000 },
  { level: '3.2', mbps: 216_000, fs: 5_120, br: 20_000, cpb: 20_000 },
  { level: '4.0', mbps: 245_760, fs: 8_192, br: 20_000, cpb: 25_000 },
  { level: '4.1', mbps: 245_760, fs: 8_192, br: 50_000, cpb: 62_500 },
  { level: '4.2', mbps: 522_240, fs: 8_704, br: 50_000, cpb: 62_500 },
  { level: '5.0', mbps: 589_824, fs: 22_080, br: 135_000, cpb: 135_000 },
  { level: '5.1', mbps: 983_040, fs: 36_864, br: 240_000, cpb: 240_000 },
  { level: '5.2', mbps: 2_073_600, fs: 36_864, br: 240_000, cpb: 240_000 },
];
const HIGH_PROFILE_BITRATE_FACTOR = 1250;

/**
 * The lowest level that fits, declared explicitly so the CODECS string we publish is exactly what the
 * encoder writes into the SPS. 3.0 is the floor: every H.264 player of the last decade decodes it.
 */
export function h264Level(
  width: number,
  height: number,
  fps: number,
  maxRate: number,
  bufSize: number,
): H264Level {
  const mbW = Math.ceil(width / 16);
  const mbH = Math.ceil(height / 16);
  const frameMbs = mbW * mbH;
  const fits = LEVELS.find(
    (l) =>
      frameMbs <= l.fs &&
      // A frame side may not exceed sqrt(8 × MaxFS) macroblocks (A.3.1 h/i).
      Math.max(mbW, mbH) <= Math.sqrt(8 * l.fs) &&
      frameMbs * fps <= l.mbps &&
      maxRate <= l.br * HIGH_PROFILE_BITRATE_FACTOR &&
      bufSize <= l.cpb * HIGH_PROFILE_BITRATE_FACTOR,
  );
  return fits?.level ?? '5.2';
}

/** avc1.PPCCLL: profile_idc 100 (High), no constraint flags (what x264 writes for High), level_idc. */
export function rfc6381Codecs(level: H264Level, hasAudio: boolean): string {
  const levelIdc = Math.round(Number(level) * 10)
    .toString(16)
    .padStart(2, '0');
  const video = `avc1.6400${levelIdc}`;
  return hasAudio ? `${video},mp4a.40.2` : video;
}

/** NTSC-style rates are kept exact so a 29.97 source is not resampled to 30 (a dropped frame every 33 s). */
const BROADCAST_RATES: readonly Rational[] = [
  { numerator: 24000, denominator: 1001 },
  { numerator: 24, denominator: 1 },
  { numerator: 25, denominator: 1 },
  { numerator: 30000, denominator: 1001 },
  { numerator: 30, denominator: 1 },
  { numerator: 48, denominator: 1 },
  { numerator: 50, denominator: 1 },
  { numerator: 60000, denominator: 1001 },
  { numerator: 60, denominator: 1 },
];

/** The nearest broadcast rate within 1%, else the nearest whole rate. */
function snap(fps: number): Rational {
  const distance = (r: Rational) => Math.abs(r.numerator / r.denominator - fps) / fps;
  const nearest = BROADCAST_RATES.reduce((best, r) => (distance(r) < distance(best) ? r : best));
  return distance(nearest) < 0.01 ? nearest : { numerator: Math.max(1, Math.round(fps)), denominator: 1 };
}

/**
 * Above 60 fps we divide by the smallest whole number that brings the rate to 60 or less (120 -> 60,
 * 119.88 -> 59.94, 100 -> 50, 90 -> 45), so frames are dropped on a regular cadence and motion stays even.
 * A rate just over 60 (a variable-rate phone clip averaging 60.4) is snapped to 60 first.
 */
export function outputFrameRate(sourceFps: number): Rational {
  const snapped = snap(sourceFps);
  const fps = snapped.numerator / snapped.denominator;
  if (fps <= MAX_OUTPUT_FPS) return snapped;
  const divisor = Math.ceil(fps / MAX_OUTPUT_FPS);
  return snap(sourceFps / divisor);
}

/** 25% in, at least half a second before the end, to the millisecond. */
function posterTime(durationSeconds: number): number {
  const at = Math.min(durationSeconds * 0.25, durationSeconds - 0.5);
  return Math.max(0, Math.round(at * 1000) / 1000);
}

/** Scaled to a width (never up), even dimensions, aspect kept. */
function fitWidth(width: number, height: number, maxWidth: number): { width: number; height: number } {
  const w = Math.min(width, maxWidth);
  return { width: w, height: Math.max(2, roundEven((height * w) / width)) };
}
