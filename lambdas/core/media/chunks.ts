/**
 * Split and stitch: a long source is transcoded as independent chunk jobs that run at once (N Lambdas in
 * the cloud, one worker per core locally), and stitched into one ladder when the last lands.
 *
 * - A chunk is a whole number of segments, and a segment a whole number of frames (`gopFrames`, 4 s at the
 *   plan's rate: 4.004 s at the NTSC rates). Every rung keyframes exactly every `gopFrames` frames from
 *   the chunk's first frame, so chunk joins are segment boundaries and every rung's segment N covers the
 *   same frames, as in the single-process ladder.
 * - Each chunk's rungs are split into `rungGroups` groups of about equal encode cost (`groupRungs`), and
 *   each chunk x group is one job: it decodes its frame range once and encodes the group's rungs,
 *   reading its time range by ranged requests (input seeking), and numbers its segments globally
 *   (`firstSegment`). Two groups halve the longest job for one extra decode of the range (the top rung
 *   alone costs about what all the others do together).
 * - Audio is its own rendition group per audio bitrate of the ladder, encoded in audio chunks (jobs from
 *   `audioJob` on; the first also cuts the poster) that are whole AAC frames (1024 samples at 48 kHz) and
 *   start where a video chunk starts, to the frame. Each audio chunk decodes from a few frames before its
 *   start to a few after its end (pre- and post-roll), and keeps only the encoded frames that cover its own
 *   range: the encoder's priming and the pre-roll are dropped, so the frame before every join is the
 *   previous chunk's encode of the same samples and the decoder's overlap-add runs on across it (no gap,
 *   no click, no priming inside the stream). Only the first chunk keeps its priming frame, which the
 *   stitched init segment's edit list skips, as in any AAC MP4.
 * - Timestamps: every chunk encode starts at 0; its fragments' decode times are shifted by its first
 *   frame's time (`startFrame` frames), so they continue across joins (see adapters/ffmpeg/fmp4.ts).
 */
import type { PlannedRendition, TranscodePlan } from './ladder.ts';

export interface VideoChunk {
  /** Job number (0-based): jobs are in time order, the rung groups of one chunk next to each other. */
  index: number;
  /**
   * The rungs (names) this job encodes, highest first; absent in plans stored before rung groups, where
   * a job encodes every rung.
   */
  rungs?: string[];
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
  /** The video jobs: every chunk once per rung group (a chunk is the jobs with the same startFrame). */
  chunks: VideoChunk[];
  /** The first audio job (chunks.length): it also cuts the poster, and is the only one without audio. */
  audioJob: number;
  /** Audio chunks, job audioJob + index each; empty when the source has no audio. */
  audioChunks: AudioChunk[];
  /** chunks.length + max(1, audioChunks.length). */
  jobCount: number;
}

/** AAC in every audio rendition: 48 kHz, 1024 samples per frame. */
export const AUDIO_SAMPLE_RATE = 48_000;
export const AAC_FRAME_SAMPLES = 1024;
/** Frames decoded and encoded on each side of an audio chunk and then dropped (encoder warm-up, overlap). */
export const AUDIO_PREROLL_FRAMES = 4;
export const AUDIO_POSTROLL_FRAMES = 4;

export interface AudioChunk {
  /** Audio chunk number (0-based); its job is audioJob + index. */
  index: number;
  /** First AAC frame of the chunk, globally (frame f covers samples f*1024 .. f*1024+1023 at 48 kHz). */
  startFrame: number;
  /** Frames of the chunk: the last ends at the first whole frame at or after the planned duration. */
  frameCount: number;
  /** Where decoding starts (pre-roll before startFrame, never before 0) and how long, seconds. */
  readStartSeconds: number;
  readSeconds: number;
  /** Samples (48 kHz) the decoded input is padded to with silence, so a short audio track still fills. */
  readSamples: number;
  /** Encoded frames dropped at the start (the encoder's priming frame and the pre-roll; 0 in chunk 0). */
  skipFrames: number;
  /** Encoded frames kept after those: frameCount, plus the priming frame in chunk 0. */
  keepFrames: number;
  /** Decode time (48 kHz ticks) of the first kept frame in the stitched track (whose frame 0 is priming). */
  decodeTime: number;
  /** The global number of its first segment, and the most it may make (numbers up to the next chunk's). */
  firstSegment: number;
  maxSegments: number;
}

export interface ChunkOptions {
  /** Target chunk length in seconds (rounded up to whole segments). */
  chunkSeconds: number;
  /**
   * Never more chunks than this per video (jobs: this times `rungGroups`): chunks grow instead (bounded
   * fan-out and bookkeeping).
   */
  maxChunks: number;
  /**
   * Target audio chunk length (rounded to whole video chunks, at least one): AAC is about 50x realtime
   * per bitrate on one core, so audio chunks can be several video chunks long and stay shorter jobs.
   */
  audioChunkSeconds?: number;
  /** Jobs per chunk, each encoding a group of rungs of about equal cost (1: every rung in one job). */
  rungGroups?: number;
}

export const DEFAULT_CHUNK_SECONDS = 12;
export const DEFAULT_RUNG_GROUPS = 2;
/**
 * At most 240 chunks (480 video jobs in two rung groups): with the audio jobs a 60-minute source is one
 * wave of the transcode event source's 500 concurrent invocations (lambdas/events/consumers.ts; a unit
 * test holds the two together), and a 4 h source gets 60 s chunks.
 */
export const DEFAULT_MAX_CHUNKS = 240;
export const DEFAULT_AUDIO_CHUNK_SECONDS = 120;

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
  const ranges: Array<Omit<VideoChunk, 'index' | 'rungs'>> = [];
  for (let index = 0; index < count; index += 1) {
    const firstSegment = index * chunkSegments;
    const startFrame = firstSegment * segmentFrames;
    const last = index === count - 1;
    const frameCount = last ? null : chunkSegments * segmentFrames;
    const startSeconds = frameSeconds(startFrame, plan);
    const endSeconds = last ? plan.sourceDurationSeconds : frameSeconds(startFrame + frameCount!, plan);
    ranges.push({
      startFrame,
      frameCount,
      startSeconds,
      durationSeconds: Math.round((endSeconds - startSeconds) * 1e6) / 1e6,
      firstSegment,
    });
  }
  const groups = groupRungs(plan.renditions, options.rungGroups ?? DEFAULT_RUNG_GROUPS);
  const chunks = ranges.flatMap((range, r) =>
    groups.map((rungs, g) => ({ index: r * groups.length + g, ...range, rungs })),
  );
  const audioChunks =
    plan.streams.audio === null
      ? []
      : planAudioChunks(plan, ranges, options.audioChunkSeconds ?? DEFAULT_AUDIO_CHUNK_SECONDS);
  return {
    segmentFrames,
    chunkSegments,
    chunks,
    audioJob: chunks.length,
    audioChunks,
    jobCount: chunks.length + Math.max(1, audioChunks.length),
  };
}

/**
 * The rungs of a ladder in `count` groups of about equal encode cost (longest-processing-time first), each
 * highest first. A rung's job costs less than its pixels say (the decode and filters are shared by the
 * group, x264 is faster per pixel on small frames), so a rung costs pixels^0.7 here: an exponent picked
 * because it gives the split measured best on the 1080p ladder, 1080p + 240p and 720p + 480p + 360p
 * (bench/transcode: 12.3-16.2 CPU-s per job, the two groups within 10% of each other chunk by chunk).
 */
export function groupRungs(renditions: readonly PlannedRendition[], count: number): string[][] {
  const cost = (r: PlannedRendition) => (r.width * r.height) ** 0.7;
  const groups = Array.from({ length: Math.max(1, Math.min(count, renditions.length)) }, () => ({
    cost: 0,
    rungs: [] as PlannedRendition[],
  }));
  for (const r of [...renditions].sort((a, b) => cost(b) - cost(a))) {
    const lightest = groups.reduce((a, b) => (b.cost < a.cost ? b : a));
    lightest.cost += cost(r);
    lightest.rungs.push(r);
  }
  const order = (r: PlannedRendition) => renditions.indexOf(r);
  return groups.map((g) => g.rungs.sort((a, b) => order(a) - order(b)).map((r) => r.name));
}

/**
 * One rung's part of every chunk, in time order: the results of the video jobs that encode it (one per
 * chunk), for the stitch. Throws when a chunk has no part of the rung (a plan and results that disagree).
 */
export function rungParts<P extends { name: string }>(
  plan: TranscodePlan,
  chunks: Pick<ChunkPlan, 'chunks'>,
  results: ReadonlyArray<{ rungs: readonly P[] }>,
  rung: string,
): P[] {
  const parts = chunks.chunks
    .filter((job) => jobPlan(plan, job).renditions.some((r) => r.name === rung))
    .map((job) => results[job.index]?.rungs.find((r) => r.name === rung));
  const ranges = new Set(chunks.chunks.map((job) => job.startFrame)).size;
  if (parts.length !== ranges || parts.some((p) => !p)) {
    throw new Error(`a chunk has no ${rung} rung`);
  }
  return parts as P[];
}

/** The plan of one video job: its own rungs only (every rung in plans stored before rung groups). */
export function jobPlan(plan: TranscodePlan, chunk: Pick<VideoChunk, 'rungs'>): TranscodePlan {
  const { rungs } = chunk;
  return rungs ? { ...plan, renditions: plan.renditions.filter((r) => rungs.includes(r.name)) } : plan;
}

const frameSecondsAudio = (frames: number) =>
  Math.round((frames * AAC_FRAME_SAMPLES * 1e6) / AUDIO_SAMPLE_RATE) / 1e6;

/**
 * Audio chunks over whole video chunks. The stitched track's media time starts with the encoder's one
 * priming frame (the edit list skips it), so frame f sits at media time (f + 1) frames: each chunk after
 * the first starts on the frame whose media time is nearest its first video chunk's start (within half a
 * frame, 10.7 ms), and the last ends on the first whole frame at or past the planned duration, so the
 * track is as long as the source to within one frame.
 */
function planAudioChunks(
  plan: TranscodePlan,
  chunks: ReadonlyArray<Pick<VideoChunk, 'startSeconds' | 'durationSeconds'>>,
  audioChunkSeconds: number,
): AudioChunk[] {
  const span = Math.max(1, Math.round(audioChunkSeconds / chunks[0]!.durationSeconds));
  const perSecond = AUDIO_SAMPLE_RATE / AAC_FRAME_SAMPLES;
  const totalFrames = Math.max(1, Math.ceil(plan.sourceDurationSeconds * perSecond - 1e-6));
  const starts = [0];
  for (let i = span; i < chunks.length; i += span) {
    const start = Math.round(chunks[i]!.startSeconds * perSecond) - 1;
    if (start > starts.at(-1)! && start < totalFrames) starts.push(start);
  }
  // ffmpeg's HLS muxer cuts where the segment time passes each multiple of segmentSeconds (the 2018 build
  // may cut differently): a chunk's segments are numbered from a range with one to spare.
  const segmentSamples = plan.segmentSeconds * AUDIO_SAMPLE_RATE;
  let firstSegment = 0;
  return starts.map((startFrame, index) => {
    const endFrame = starts[index + 1] ?? totalFrames;
    const frameCount = endFrame - startFrame;
    const readStart = Math.max(0, startFrame - AUDIO_PREROLL_FRAMES);
    const readEnd = endFrame + AUDIO_POSTROLL_FRAMES;
    // The encoder emits one priming frame, then frame i of its input: chunk 0 keeps the priming frame
    // (the track starts with it), every other chunk drops it with its pre-roll.
    const first = index === 0;
    const keepFrames = first ? frameCount + 1 : frameCount;
    const maxSegments = Math.ceil((keepFrames * AAC_FRAME_SAMPLES) / segmentSamples) + 1;
    const chunk: AudioChunk = {
      index,
      startFrame,
      frameCount,
      readStartSeconds: frameSecondsAudio(readStart),
      readSeconds: frameSecondsAudio(readEnd - readStart),
      readSamples: (readEnd - readStart) * AAC_FRAME_SAMPLES,
      skipFrames: first ? 0 : startFrame - readStart + 1,
      keepFrames,
      decodeTime: first ? 0 : (startFrame + 1) * AAC_FRAME_SAMPLES,
      firstSegment,
      maxSegments,
    };
    firstSegment += maxSegments;
    return chunk;
  });
}

/** The audio bitrates of a ladder, highest first: one audio rendition (and group) each. */
export function audioBitrates(plan: Pick<TranscodePlan, 'renditions'>): number[] {
  return [...new Set(plan.renditions.map((r) => r.audioBitrate).filter((b) => b > 0))].sort((a, b) => b - a);
}

/** The audio group (and directory under audio/) of one bitrate, e.g. "audio-128k" in audio/128k/. */
export const audioGroupId = (bitrate: number) => `${AUDIO_GROUP}-${Math.round(bitrate / 1000)}k`;
export const audioDirectory = (bitrate: number) => `${AUDIO_DIRECTORY}/${Math.round(bitrate / 1000)}k`;

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
  /** Per audio bitrate (highest first): this chunk's segments of its rendition; empty without audio. */
  renditions: Array<{ bitrate: number; segments: SegmentInfo[] }>;
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
