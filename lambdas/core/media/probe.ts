/**
 * What we accept as a source video, decided from ffprobe's JSON (`-show_format -show_streams`).
 *
 * This is the second line of defence: the ffprobe adapter already runs with `-format_whitelist` of the
 * same demuxers, so a playlist or concat script is refused before its demuxer ever runs. Here we make
 * sure what did parse is a real video within our limits, and name the demuxer the encoder must be forced
 * to use, so the transcoder never auto-detects the format a second time.
 */
import * as z from 'zod';

/** Demuxers we force when decoding; keys are what `-f` takes. */
export type SourceContainer = 'mov' | 'matroska';

/**
 * ffprobe's `format_name` for each accepted demuxer (a demuxer reports all its aliases, comma-joined).
 *
 * Deliberately not accepted:
 * - hls, concat, image2, tty, data, html-ish guesses: they open other files or URLs named inside the input
 *   (the CVE-2016-1897/2017-9993 family) or are not video at all.
 * - avi: its GAB2 subtitle chunks embed a nested demuxer (the "AVI + M3U" file-read trick).
 * - mpegts: it is safe in that it references no other files, but the upload API only admits
 *   video/mp4, video/quicktime, video/webm and video/x-matroska, and every extra demuxer is more parser
 *   surface for hostile input. Adding it later is one entry here plus 'mpegts' in the adapter's whitelist.
 */
export const ACCEPTED_FORMATS: Readonly<Record<string, SourceContainer>> = {
  'mov,mp4,m4a,3gp,3g2,mj2': 'mov',
  'matroska,webm': 'matroska',
};

/** The demuxer names for ffmpeg's `-format_whitelist`: the same set as ACCEPTED_FORMATS. */
export const DEMUXER_WHITELIST: readonly SourceContainer[] = ['mov', 'matroska'];

const ACCEPTED_LABEL = 'MP4/MOV, Matroska/WebM';

export function unsupportedContainerReason(found: string): string {
  return `not a supported container: found '${found}' (accepted: ${ACCEPTED_LABEL})`;
}

// ffprobe prints numbers as strings in some places ("duration": "10.000000") and numbers in others.
const numeric = z.union([z.number(), z.string()]);

const streamSchema = z.object({
  index: z.number().int().nonnegative(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  profile: z.string().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  sample_aspect_ratio: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  duration: numeric.optional(),
  disposition: z.object({ attached_pic: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z
    .array(z.object({ side_data_type: z.string().optional(), rotation: numeric.optional() }))
    .optional(),
});

export const ffprobeOutputSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({
    format_name: z.string(),
    duration: numeric.optional(),
    size: numeric.optional(),
    bit_rate: numeric.optional(),
  }),
});

export type FfprobeOutput = z.infer<typeof ffprobeOutputSchema>;
type FfprobeStream = FfprobeOutput['streams'][number];

export interface SourceLimits {
  maxDurationSeconds: number;
  /** Longest side, in either orientation. */
  maxLongSide: number;
  /** Shortest side, in either orientation (7680x4320 means a 4320x7680 portrait is fine too). */
  maxShortSide: number;
  minSide: number;
  maxFrameRate: number;
}

export const DEFAULT_SOURCE_LIMITS: SourceLimits = {
  maxDurationSeconds: 4 * 3600,
  maxLongSide: 7680,
  maxShortSide: 4320,
  minSide: 16,
  maxFrameRate: 120,
};

/**
 * The most pixels a decoder may allocate for one picture (ffmpeg's `-max_pixels`): the largest frame the
 * limits admit. A file whose header says 16x16 but whose pictures are 16000x16000 is stopped by the
 * decoder itself instead of allocating gigabytes.
 */
export const MAX_SOURCE_PIXELS = DEFAULT_SOURCE_LIMITS.maxLongSide * DEFAULT_SOURCE_LIMITS.maxShortSide;

export interface SourceFacts {
  /** The demuxer to force (`-f`) when decoding. */
  container: SourceContainer;
  durationSeconds: number;
  /** Display size: sample aspect ratio and rotation applied, so a phone's portrait clip is taller than wide. */
  width: number;
  height: number;
  /** Frames per second (average rate; may be fractional, e.g. 29.97). */
  frameRate: number;
  hasAudio: boolean;
  videoCodec: string;
  audioCodec?: string;
  /** Absolute ffprobe/ffmpeg stream indexes, so the encoder maps the stream we validated, not cover art. */
  videoStreamIndex: number;
  audioStreamIndex?: number;
}

export type SourceValidation = { ok: true; source: SourceFacts } | { ok: false; reason: string };

const fail = (reason: string): SourceValidation => ({ ok: false, reason });

export function validateSource(probe: FfprobeOutput, limits: Partial<SourceLimits> = {}): SourceValidation {
  const lim = { ...DEFAULT_SOURCE_LIMITS, ...limits };
  const formatName = probe.format.format_name;
  const container = ACCEPTED_FORMATS[formatName];
  if (!container) return fail(unsupportedContainerReason(formatName));

  const video = probe.streams.find(isRealVideo);
  if (!video) return fail('not a video: no video stream found');
  if (!video.codec_name || video.codec_name === 'none') {
    return fail('not a video: the video stream uses a codec ffmpeg cannot identify');
  }
  if (!video.width || !video.height) return fail('not a video: the video stream has no picture size');

  const durationSeconds = mediaDuration(probe, video);
  if (durationSeconds === undefined || durationSeconds <= 0) {
    return fail('unreadable: the file reports no duration; it may be incomplete or damaged');
  }
  if (durationSeconds > lim.maxDurationSeconds) {
    return fail(
      `duration ${formatDuration(durationSeconds)} is over the ${formatDuration(lim.maxDurationSeconds)} limit`,
    );
  }

  const { width, height } = displaySize(video);
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long > lim.maxLongSide || short > lim.maxShortSide) {
    return fail(`resolution ${width}x${height} is over the ${lim.maxLongSide}x${lim.maxShortSide} limit`);
  }
  if (short < lim.minSide) {
    return fail(`resolution ${width}x${height} is under the ${lim.minSide}x${lim.minSide} minimum`);
  }

  const frameRate = videoFrameRate(video);
  if (frameRate === undefined) return fail('unreadable: the video stream reports no frame rate');
  if (frameRate > lim.maxFrameRate) {
    return fail(`frame rate ${round(frameRate, 2)} fps is over the ${lim.maxFrameRate} fps limit`);
  }

  const audio = probe.streams.find(
    (s) => s.codec_type === 'audio' && !!s.codec_name && s.codec_name !== 'none',
  );
  return {
    ok: true,
    source: {
      container,
      durationSeconds,
      width,
      height,
      frameRate,
      hasAudio: !!audio,
      videoCodec: video.codec_name,
      videoStreamIndex: video.index,
      ...(audio ? { audioCodec: audio.codec_name, audioStreamIndex: audio.index } : {}),
    },
  };
}

/** Cover art (MP4 `covr`, MP3 APIC) shows up as a one-frame video stream flagged attached_pic. */
function isRealVideo(s: FfprobeStream): boolean {
  return s.codec_type === 'video' && s.disposition?.attached_pic !== 1;
}

function toNumber(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number.parseFloat(v);
  return Number.isFinite(n) ? n : undefined;
}

/** The container's duration; Matroska/WebM often has none per stream, MP4 edit lists can differ per stream. */
function mediaDuration(probe: FfprobeOutput, video: FfprobeStream): number | undefined {
  return toNumber(probe.format.duration) ?? toNumber(video.duration);
}

/** "30000/1001" -> 29.97; "0/0" (unknown) -> undefined. */
export function parseRational(r: string | undefined): number | undefined {
  if (!r) return undefined;
  const [num, den = '1'] = r.split(/[/:]/);
  const value = Number(num) / Number(den);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * avg_frame_rate is what a variable-rate phone clip actually plays at; r_frame_rate is the stream's
 * timebase guess (90000 for some Matroska files), so it is only the fallback when the average is unknown.
 */
function videoFrameRate(video: FfprobeStream): number | undefined {
  return parseRational(video.avg_frame_rate) ?? parseRational(video.r_frame_rate);
}

/**
 * Size as displayed: anamorphic pixels stretched by the sample aspect ratio, then a quarter-turn swaps
 * the sides. ffmpeg ≥5 reports rotation in the display-matrix side data; 4.x in the `rotate` tag.
 */
function displaySize(video: FfprobeStream): { width: number; height: number } {
  const codedWidth = video.width ?? 0;
  const height = video.height ?? 0;
  const sar = parseRational(video.sample_aspect_ratio);
  const width = sar && sar !== 1 ? 2 * Math.round((codedWidth * sar) / 2) : codedWidth;
  const quarterTurn = Math.abs(Math.round(rotationDegrees(video) / 90)) % 2 === 1;
  return quarterTurn ? { width: height, height: width } : { width, height };
}

function rotationDegrees(video: FfprobeStream): number {
  const fromMatrix = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  return toNumber(fromMatrix) ?? toNumber(video.tags?.rotate) ?? 0;
}

/** 15000 -> "4h10m", 14412 -> "4h0m12s", 45 -> "45s". Rounded up, so an over-limit value never reads as the limit. */
export function formatDuration(seconds: number): string {
  const total = Math.ceil(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  let out = h > 0 ? `${h}h` : '';
  if (m > 0 || (h > 0 && s > 0)) out += `${m}m`;
  if (s > 0 || total === 0) out += `${s}s`;
  return out;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
