/**
 * The jobs of a chunked ladder (core/media/chunks.ts), each one ffmpeg process:
 * - a video chunk: input-seeked to its first frame (the demuxer seeks by ranged reads, the decoder drops
 *   what precedes the frame), decoded once and scaled to every rung, each rung keyframed exactly every
 *   segment (`-g`, `-force_key_frames` on frame numbers) and cut into globally numbered fMP4 segments;
 *   the fragments' decode times are then moved to the chunk's place in the whole (core/media/fmp4.ts);
 * - an audio chunk: its range with pre- and post-roll, decoded once and encoded to ADTS at every audio
 *   bitrate of the ladder, trimmed to the chunk's own AAC frames (core/media/adts.ts), muxed into fMP4
 *   segments by stream copy and moved to the chunk's place; the first audio job also cuts the poster and
 *   thumbnail (extractPoster, as the single-process ladder cuts them).
 * Flags are the ones the single-process ladder uses, all present in the 2018 static build.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { keepAdtsFrames } from '#core/media/adts.ts';
import {
  AAC_FRAME_SAMPLES,
  AUDIO_SAMPLE_RATE,
  type AudioChunk,
  audioBitrates,
  audioDirectory,
  jobPlan,
  type VideoChunk,
} from '#core/media/chunks.ts';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { setEditListMediaTime, shiftDecodeTimes, trackTimescale } from '#core/media/fmp4.ts';
import { avcCodecFromInitSegment } from '#core/media/hls.ts';
import type { TranscodePlan } from '#core/media/ladder.ts';
import { formatDuration, type SourceContainer } from '#core/media/probe.ts';
import { type Binaries, resolveBinaries } from './binaries.ts';
import { ladderGraph, parseMediaPlaylist, x264Args } from './hls.ts';
import {
  guardArgs,
  type MediaInput,
  QUIET_FFMPEG,
  type SourceInput,
  sourceInput,
  throwIfStorageFailed,
} from './input.ts';
import { extractPoster } from './poster.ts';
import { abortReason, ffmpegFailure, type RunResult, run } from './process.ts';

export const INIT_SEGMENT = 'init.mp4';
const SEGMENT_PATTERN = 'seg_%05d.m4s';
const PLAYLIST = 'index.m3u8';

export interface JobOptions {
  input: string | MediaInput;
  container: SourceContainer;
  plan: TranscodePlan;
  outputDir: string;
  preset?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  binaries?: Binaries;
}

export interface EncodedSegment {
  uri: string;
  durationSeconds: number;
  bytes: number;
  file: string;
}

/** Moves every fragment of a chunk's segments to its place in the whole (decode times + `ticks`). */
async function shiftSegments(segments: readonly EncodedSegment[], ticks: bigint): Promise<void> {
  await Promise.all(
    segments.map(async (s) => {
      const bytes = await readFile(s.file);
      shiftDecodeTimes(bytes, ticks);
      await writeFile(s.file, bytes);
    }),
  );
}

export interface EncodedChunk {
  rungs: Array<{
    name: string;
    codec: string;
    directory: string;
    initPath: string;
    segments: EncodedSegment[];
  }>;
}

/**
 * One chunk of the job's rungs (`chunk.rungs`), its fragments' decode times already continuous with the
 * chunks before it.
 */
export async function encodeVideoChunk(options: JobOptions & { chunk: VideoChunk }): Promise<EncodedChunk> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const { chunk } = options;
  const plan = jobPlan(options.plan, chunk);
  const src = sourceInput(options.input);
  const outputDir = path.resolve(options.outputDir);
  await Promise.all(plan.renditions.map((r) => mkdir(path.join(outputDir, r.name), { recursive: true })));
  const out = await run(binaries.ffmpeg, chunkArgs({ ...options, plan }, src, outputDir), {
    timeoutMs: options.timeoutMs ?? 14 * 60_000,
    signal: options.signal,
  });
  checkRun(out, src, options, [...src.redact, outputDir]);

  const { numerator, denominator } = plan.frameRate;
  const rungs = await Promise.all(
    plan.renditions.map(async (r) => {
      const directory = path.join(outputDir, r.name);
      const segments = await listSegments(directory);
      const initPath = path.join(directory, INIT_SEGMENT);
      const init = await readFile(initPath);
      // The chunk's first frame's decode time in the track's timescale: exact at every broadcast rate.
      const timescale = BigInt(trackTimescale(init));
      const ticks =
        (BigInt(chunk.startFrame) * BigInt(denominator) * timescale + BigInt(numerator) / 2n) /
        BigInt(numerator);
      await shiftSegments(segments, ticks);
      const [plannedVideo] = r.codecs.split(',');
      return {
        name: r.name,
        codec: avcCodecFromInitSegment(init) ?? plannedVideo!,
        directory,
        initPath,
        segments,
      };
    }),
  );
  const made = rungs[0]!.segments.reduce((sum, s) => sum + s.durationSeconds, 0);
  if (made < chunk.durationSeconds - Math.max(2, 0.02 * chunk.durationSeconds)) {
    throw new MediaRejectedError(
      `damaged or truncated: only ${formatDuration(chunk.startSeconds + made)} of its ` +
        `${formatDuration(plan.sourceDurationSeconds)} could be decoded; upload the complete file again`,
    );
  }
  return { rungs };
}

export interface EncodedAudioRendition {
  bitrate: number;
  directory: string;
  initPath: string;
  segments: EncodedSegment[];
}

export interface EncodedAudio {
  /** Per audio bitrate, highest first; empty for the poster-only job of a source without audio. */
  renditions: EncodedAudioRendition[];
  /** Set when the job cuts the poster and thumbnail. */
  poster?: { posterPath: string; thumbnailPath: string };
}

/**
 * One audio chunk (core/media/chunks.ts) of every audio bitrate, and the poster when asked: decoded with
 * its pre- and post-roll and encoded to ADTS (one decode, one AAC encoder per bitrate), trimmed to its
 * own frames, muxed into fMP4 segments (stream copy) and moved to its place in the stitched track.
 */
export async function encodeAudioJob(
  options: JobOptions & { audioChunk: AudioChunk | undefined; poster: boolean },
): Promise<EncodedAudio> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const { plan, audioChunk } = options;
  const src = sourceInput(options.input);
  const outputDir = path.resolve(options.outputDir);
  const redact = [...src.redact, outputDir];
  await mkdir(outputDir, { recursive: true });
  const budget = { timeoutMs: options.timeoutMs ?? 14 * 60_000, signal: options.signal };
  const encodeAudio = async (): Promise<EncodedAudioRendition[]> => {
    const bitrates = audioBitrates(plan);
    if (!audioChunk || plan.streams.audio === null || bitrates.length === 0) return [];
    const raw = bitrates.map((b) => path.join(outputDir, `${b}.aac`));
    checkRun(
      await run(binaries.ffmpeg, audioChunkArgs(options, audioChunk, src, raw), budget),
      src,
      options,
      redact,
    );
    const trimmed = await Promise.all(
      raw.map(async (file) => {
        const kept = keepAdtsFrames(await readFile(file), audioChunk.skipFrames, audioChunk.keepFrames);
        const out = `${file}.kept`;
        await writeFile(out, kept);
        return out;
      }),
    );
    const directories = bitrates.map((b) => path.join(outputDir, audioDirectory(b)));
    await Promise.all(directories.map((d) => mkdir(d, { recursive: true })));
    checkRun(
      await run(binaries.ffmpeg, audioMuxArgs(plan, audioChunk, trimmed, directories), budget),
      src,
      options,
      redact,
    );
    return Promise.all(
      bitrates.map(async (bitrate, i) => {
        const directory = directories[i]!;
        const segments = await listSegments(directory);
        if (segments.length > audioChunk.maxSegments) {
          throw new MediaToolError(
            `transcode failed: audio chunk ${audioChunk.index} made ${segments.length} segments, more than its ${audioChunk.maxSegments}`,
          );
        }
        const initPath = path.join(directory, INIT_SEGMENT);
        const init = await readFile(initPath);
        const timescale = trackTimescale(init);
        const ticks = (BigInt(audioChunk.decodeTime) * BigInt(timescale)) / BigInt(AUDIO_SAMPLE_RATE);
        await shiftSegments(segments, ticks);
        if (audioChunk.index === 0) {
          // The track starts with the encoder's priming frame: presentation starts after it.
          setEditListMediaTime(init, (AAC_FRAME_SAMPLES * timescale) / AUDIO_SAMPLE_RATE);
          await writeFile(initPath, init);
        }
        return { bitrate, directory, initPath, segments };
      }),
    );
  };
  const cutPoster = async () => {
    if (!options.poster) return undefined;
    const posterPath = path.join(outputDir, 'poster.jpg');
    const thumbnailPath = path.join(outputDir, 'thumbnail.jpg');
    await extractPoster(binaries, options, src, posterPath, thumbnailPath, redact);
    return { posterPath, thumbnailPath };
  };
  const [renditions, poster] = await Promise.all([encodeAudio(), cutPoster()]);
  return { renditions, ...(poster ? { poster } : {}) };
}

function checkRun(out: RunResult, src: SourceInput, options: JobOptions, redact: readonly string[]): void {
  throwIfStorageFailed(src);
  if (out.aborted) throw new MediaToolError(`stopped: ${abortReason(options.signal)}`);
  if (out.timedOut) {
    throw new MediaToolError(
      `timed out: transcoding took longer than its budget of ${Math.round((options.timeoutMs ?? 0) / 1000)} s`,
    );
  }
  if (out.code !== 0) throw ffmpegFailure(out, redact);
}

async function listSegments(directory: string): Promise<EncodedSegment[]> {
  const playlist = parseMediaPlaylist(await readFile(path.join(directory, PLAYLIST), 'utf8'));
  if (!playlist.ended || playlist.segments.length === 0) {
    throw new MediaToolError(`transcode failed: the ${path.basename(directory)} playlist is incomplete`);
  }
  const names = new Set(await readdir(directory));
  return Promise.all(
    playlist.segments.map(async (s) => {
      if (!names.has(s.uri)) throw new MediaToolError(`transcode failed: segment ${s.uri} is missing`);
      const file = path.join(directory, s.uri);
      return { uri: s.uri, durationSeconds: s.duration, bytes: (await stat(file)).size, file };
    }),
  );
}

/** Options shared by every fMP4 HLS output. */
function hlsArgs(plan: TranscodePlan, dir: string, startNumber: number): string[] {
  return [
    '-f',
    'hls',
    '-hls_time',
    `${plan.segmentSeconds}`,
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    INIT_SEGMENT,
    '-start_number',
    `${startNumber}`,
    '-hls_segment_filename',
    path.join(dir, SEGMENT_PATTERN),
    path.join(dir, PLAYLIST),
  ];
}

const stripped = ['-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1'];

export function chunkArgs(
  options: JobOptions & { chunk: VideoChunk },
  src: SourceInput,
  outputDir: string,
): string[] {
  const { plan, chunk } = options;
  const graph = ladderGraph(plan);
  // A little more input than the frames: the frame-rate filter needs the frame after the last to place it.
  const readSeconds = chunk.frameCount === null ? chunk.durationSeconds : chunk.durationSeconds + 1;
  return [
    ...QUIET_FFMPEG,
    ...guardArgs(src),
    ...(chunk.startSeconds > 0 ? ['-ss', `${chunk.startSeconds}`] : []),
    '-f',
    options.container,
    '-t',
    `${readSeconds}`,
    '-i',
    src.url,
    '-filter_complex',
    graph,
    ...plan.renditions.flatMap((r, i) => [
      '-map',
      `[v${i}]`,
      '-an',
      ...stripped,
      // An IDR exactly every segment's frames from the chunk's first: joins are segment boundaries.
      ...x264Args(r, options.preset ?? 'veryfast', plan.gopFrames, `expr:eq(mod(n,${plan.gopFrames}),0)`),
      ...(chunk.frameCount === null ? [] : ['-frames:v', `${chunk.frameCount}`]),
      '-max_muxing_queue_size',
      '1024',
      ...hlsArgs(plan, path.join(outputDir, r.name), chunk.firstSegment),
    ]),
  ];
}

/** Decode the chunk's range once, pad it to its length, and encode it to ADTS at every bitrate. */
function audioChunkArgs(
  options: JobOptions,
  chunk: AudioChunk,
  src: SourceInput,
  outputs: readonly string[],
): string[] {
  const { plan } = options;
  const bitrates = audioBitrates(plan);
  const n = outputs.length;
  const graph =
    `[0:${plan.streams.audio}]aresample=${AUDIO_SAMPLE_RATE},aformat=channel_layouts=stereo,` +
    `apad=whole_len=${chunk.readSamples}` +
    (n > 1 ? `,asplit=${n}${outputs.map((_, i) => `[a${i}]`).join('')}` : '[a0]');
  return [
    ...QUIET_FFMPEG,
    ...guardArgs(src),
    ...(chunk.readStartSeconds > 0 ? ['-ss', chunk.readStartSeconds.toFixed(6)] : []),
    '-f',
    options.container,
    '-t',
    chunk.readSeconds.toFixed(6),
    '-i',
    src.url,
    '-filter_complex',
    graph,
    ...outputs.flatMap((file, i) => [
      '-map',
      `[a${i}]`,
      ...stripped,
      '-c:a',
      'aac',
      '-b:a',
      `${bitrates[i]}`,
      '-f',
      'adts',
      file,
    ]),
  ];
}

/** The trimmed ADTS streams into fMP4 HLS segments, numbered from the chunk's first, without re-encoding. */
function audioMuxArgs(
  plan: TranscodePlan,
  chunk: AudioChunk,
  inputs: readonly string[],
  directories: readonly string[],
): string[] {
  return [
    ...QUIET_FFMPEG,
    ...inputs.flatMap((file) => ['-f', 'aac', '-i', file]),
    ...directories.flatMap((dir, i) => [
      '-map',
      `${i}:a`,
      '-c:a',
      'copy',
      '-bsf:a',
      'aac_adtstoasc',
      ...hlsArgs(plan, dir, chunk.firstSegment),
    ]),
  ];
}
