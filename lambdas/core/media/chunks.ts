/**
 * Split and stitch: a long source is transcoded as independent chunk jobs that run at once (N Lambdas in
 * the cloud, one worker per core locally), and stitched into one ladder when the last lands.
 *
 * - A chunk is a whole number of segments, and a segment a whole number of frames (`gopFrames`, 4 s at the
 *   plan's rate: 4.004 s at the NTSC rates). Every rung keyframes exactly every `gopFrames` frames from
 *   the chunk's first frame, so chunk joins are segment boundaries and every rung's segment N covers the
 *   same frames, as in the single-process ladder.
 * - Each chunk job encodes every rung of its frame range (decode once, scale N times), reading its time
 *   range by ranged requests (input seeking), and numbers its segments globally (`firstSegment`).
 * - Audio is encoded once, as its own rendition group (job `audioJob`, with the poster), so no AAC priming
 *   or frame padding ever lands at a chunk join.
 * - Timestamps: every chunk encode starts at 0; its fragments' decode times are shifted by its first
 *   frame's time (`startFrame` frames), so they continue across joins (see adapters/ffmpeg/fmp4.ts).
 */
import type { TranscodePlan } from './ladder.ts';

export interface VideoChunk {
  /** Job number (0-based), also the chunk's order. */
  index: number;
  /** First output frame (at the plan's rate) and how many; null for the last chunk (to the end). */
  startFrame: number;
  frameCount: number | null;
  /** Where the chunk starts in the source, seconds (startFrame at the plan's rate, exact to the microsecond at every broadcast rate). */
  startSeconds: number;
  /** Source seconds the chunk covers (the last one: to the end of the planned duration). */
  durationSeconds: number;
  /** The global number of its first segment (seg_<n>.m4s). */
  firstSegment: number;
}

export interface ChunkPlan {
  /** Frames per segment (= the plan's gopFrames). */
  segmentFrames: number;
  /** Segments per chunk (the last may hold fewer). */
  chunkSegments: number;
  chunks: VideoChunk[];
  /** The job that encodes the audio (when the source has any) and cuts the poster: chunks.length. */
  audioJob: number;
  /** chunks.length + 1. */
  jobCount: number;
}

export interface ChunkOptions {
  /** Target chunk length in seconds (rounded up to whole segments). */
  chunkSeconds: number;
  /** Never more chunk jobs than this per video: chunks grow instead (bounded fan-out and bookkeeping). */
  maxChunks: number;
}

export const DEFAULT_MAX_CHUNKS = 500;

/**
 * The chunks of a planned ffmpeg ladder; undefined when the source fits in one chunk, where fan-out
 * buys no parallelism and one process (one decode, audio muxed in) does the whole ladder for less.
 */
export function planChunks(plan: TranscodePlan, options: ChunkOptions): ChunkPlan | undefined {
  const { numerator, denominator } = plan.frameRate;
  const fps = numerator / denominator;
  const segmentFrames = plan.gopFrames;
  const segmentSeconds = segmentFrames / fps;
  const totalFrames = Math.round(plan.sourceDurationSeconds * fps);
  const totalSegments = Math.max(1, Math.ceil(totalFrames / segmentFrames));
  const wanted = Math.max(1, Math.ceil(options.chunkSeconds / segmentSeconds - 1e-9));
  const chunkSegments = Math.max(wanted, Math.ceil(totalSegments / Math.max(1, options.maxChunks)));
  const count = Math.ceil(totalSegments / chunkSegments);
  if (count <= 1) return undefined;
  const chunks: VideoChunk[] = [];
  for (let index = 0; index < count; index += 1) {
    const firstSegment = index * chunkSegments;
    const startFrame = firstSegment * segmentFrames;
    const last = index === count - 1;
    const frameCount = last ? null : chunkSegments * segmentFrames;
    const startSeconds = frameSeconds(startFrame, plan);
    const endSeconds = last ? plan.sourceDurationSeconds : frameSeconds(startFrame + frameCount!, plan);
    chunks.push({
      index,
      startFrame,
      frameCount,
      startSeconds,
      durationSeconds: Math.round((endSeconds - startSeconds) * 1e6) / 1e6,
      firstSegment,
    });
  }
  return { segmentFrames, chunkSegments, chunks, audioJob: count, jobCount: count + 1 };
}

/** A frame's time at the plan's rate, to the microsecond. */
export function frameSeconds(frame: number, plan: Pick<TranscodePlan, 'frameRate'>): number {
  return Math.round((frame * plan.frameRate.denominator * 1e6) / plan.frameRate.numerator) / 1e6;
}

/** What a finished job reports, kept with it until the stitch. */
export interface SegmentInfo {
  /** File name, e.g. seg_00012.m4s. */
  uri: string;
  durationSeconds: number;
  bytes: number;
}

export interface ChunkJobResult {
  kind: 'video';
  /** Per rung: its segments of this chunk, and (read from the chunk's init segment) its CODECS video part. */
  rungs: Array<{ name: string; codec: string; segments: SegmentInfo[] }>;
}

export interface AudioJobResult {
  kind: 'audio';
  /** Null when the source has no audio. */
  audio: { segments: SegmentInfo[] } | null;
}

export type JobResult = ChunkJobResult | AudioJobResult;

export const AUDIO_GROUP = 'audio';
export const AUDIO_DIRECTORY = 'audio';

/** An fMP4 media playlist of segments that share one init segment. */
export function mediaPlaylist(segments: readonly SegmentInfo[], initUri: string): string {
  const target = Math.max(1, ...segments.map((s) => Math.round(s.durationSeconds)));
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${initUri}"`,
    ...segments.flatMap((s) => [`#EXTINF:${s.durationSeconds.toFixed(6)},`, s.uri]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

/** Measured bitrates of a list of segments: average over the whole, and the heaviest segment's. */
export function measureSegments(segments: readonly SegmentInfo[]): {
  durationSeconds: number;
  bytes: number;
  averageBitrate: number;
  peakBitrate: number;
} {
  const durationSeconds = segments.reduce((sum, s) => sum + s.durationSeconds, 0);
  const bytes = segments.reduce((sum, s) => sum + s.bytes, 0);
  return {
    durationSeconds,
    bytes,
    averageBitrate: Math.ceil((bytes * 8) / Math.max(durationSeconds, 0.001)),
    peakBitrate: Math.max(
      0,
      ...segments.map((s) => Math.ceil((s.bytes * 8) / Math.max(s.durationSeconds, 0.001))),
    ),
  };
}
