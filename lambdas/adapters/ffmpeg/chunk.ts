/**
 * The jobs of a chunked ladder (core/media/chunks.ts), each one ffmpeg process:
 * - a video chunk: input-seeked to its first frame (the demuxer seeks by ranged reads, the decoder drops
 *   what precedes the frame), decoded once and scaled to every rung, each rung keyframed exactly every
 *   segment (`-g`, `-force_key_frames` on frame numbers) and cut into globally numbered fMP4 segments;
 *   the fragments' decode times are then moved to the chunk's place in the whole (core/media/fmp4.ts);
 * - the audio: the whole track, once, as its own fMP4 rendition (AAC at the top rung's bitrate); and the
 *   poster and thumbnail (extractPoster, as the single-process ladder cuts them).
 * Flags are the ones the single-process ladder uses, all present in the 2018 static build.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { VideoChunk } from '#core/media/chunks.ts';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { shiftDecodeTimes, trackTimescale } from '#core/media/fmp4.ts';
import { avcCodecFromInitSegment } from '#core/media/hls.ts';
import type { TranscodePlan } from '#core/media/ladder.ts';
import { formatDuration, type SourceContainer } from '#core/media/probe.ts';
import { type Binaries, resolveBinaries } from './binaries.ts';
import { parseMediaPlaylist, x264Args } from './hls.ts';
import { guardArgs, type MediaInput, type SourceInput, sourceInput, throwIfStorageFailed } from './input.ts';
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

export interface EncodedChunk {
  rungs: Array<{
    name: string;
    codec: string;
    directory: string;
    initPath: string;
    segments: EncodedSegment[];
  }>;
}

/** One chunk of every rung, its fragments' decode times already continuous with the chunks before it. */
export async function encodeVideoChunk(options: JobOptions & { chunk: VideoChunk }): Promise<EncodedChunk> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const { plan, chunk } = options;
  const src = sourceInput(options.input);
  const outputDir = path.resolve(options.outputDir);
  await Promise.all(plan.renditions.map((r) => mkdir(path.join(outputDir, r.name), { recursive: true })));
  const out = await run(binaries.ffmpeg, chunkArgs(options, src, outputDir), {
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
      await Promise.all(
        segments.map(async (s) => {
          const bytes = await readFile(s.file);
          shiftDecodeTimes(bytes, ticks);
          await writeFile(s.file, bytes);
        }),
      );
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

export interface EncodedAudio {
  /** Null when the source has no audio. */
  audio: { directory: string; initPath: string; segments: EncodedSegment[] } | null;
  posterPath: string;
  thumbnailPath: string;
}

/** The whole audio track as one fMP4 rendition, and the poster and thumbnail. */
export async function encodeAudioAndPoster(options: JobOptions): Promise<EncodedAudio> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const { plan } = options;
  const src = sourceInput(options.input);
  const outputDir = path.resolve(options.outputDir);
  const redact = [...src.redact, outputDir];
  const posterPath = path.join(outputDir, 'poster.jpg');
  const thumbnailPath = path.join(outputDir, 'thumbnail.jpg');
  await mkdir(outputDir, { recursive: true });
  const encodeAudio = async (): Promise<EncodedAudio['audio']> => {
    if (plan.streams.audio === null) return null;
    const directory = path.join(outputDir, 'audio');
    await mkdir(directory, { recursive: true });
    const out = await run(binaries.ffmpeg, audioArgs(options, src, directory), {
      timeoutMs: options.timeoutMs ?? 14 * 60_000,
      signal: options.signal,
    });
    checkRun(out, src, options, redact);
    return {
      directory,
      initPath: path.join(directory, INIT_SEGMENT),
      segments: await listSegments(directory),
    };
  };
  const [audio] = await Promise.all([
    encodeAudio(),
    extractPoster(binaries, options, src, posterPath, thumbnailPath, redact),
  ]);
  return { audio, posterPath, thumbnailPath };
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

const silent = ['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-y'];

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
  const n = plan.renditions.length;
  const rate = `${plan.frameRate.numerator}/${plan.frameRate.denominator}`;
  const graph = [
    `[0:${plan.streams.video}]yadif=deint=interlaced,fps=${rate},split=${n}${plan.renditions.map((_, i) => `[s${i}]`).join('')}`,
    ...plan.renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(';');
  // A little more input than the frames: the frame-rate filter needs the frame after the last to place it.
  const readSeconds = chunk.frameCount === null ? chunk.durationSeconds : chunk.durationSeconds + 1;
  return [
    ...silent,
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

function audioArgs(options: JobOptions, src: SourceInput, dir: string): string[] {
  const { plan } = options;
  const bitrate = Math.max(...plan.renditions.map((r) => r.audioBitrate));
  return [
    ...silent,
    ...guardArgs(src),
    '-f',
    options.container,
    '-t',
    `${plan.sourceDurationSeconds}`,
    '-i',
    src.url,
    '-map',
    `0:${plan.streams.audio}`,
    '-vn',
    ...stripped,
    '-c:a',
    'aac',
    '-b:a',
    `${bitrate}`,
    '-ac',
    '2',
    '-ar',
    '48000',
    ...hlsArgs(plan, dir, 0),
  ];
}
