/**
 * The HLS ladder. ONE ffmpeg process (decode once, `split` into N scalers, N separate `-f hls` outputs); only
 * the validated video and audio streams are mapped (subtitles, data and attachments are dropped). The npm
 * 2018 static build segfaults with `-var_stream_map`, so the master playlist is ours (core/media/hls.ts),
 * written last.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { avcCodecFromInitSegment, masterPlaylist, type VariantRef } from '#core/media/hls.ts';
import type { PlannedRendition, RenditionName, TranscodePlan } from '#core/media/ladder.ts';
import { formatDuration, type SourceContainer } from '#core/media/probe.ts';
import { type Binaries, resolveBinaries } from './binaries.ts';
import {
  guardArgs,
  type MediaInput,
  QUIET_FFMPEG,
  type SourceInput,
  sourceInput,
  throwIfStorageFailed,
} from './input.ts';
import { extractPoster } from './poster.ts';
import { abortReason, ffmpegFailure, run, tail } from './process.ts';

export interface TranscodedRendition {
  name: RenditionName;
  width: number;
  height: number;
  /** Measured average bits per second (video + audio + container). */
  bitrate: number;
  /** Measured bits per second of the heaviest segment. */
  peakBitrate: number;
  codecs: string;
  durationSeconds: number;
  /** The rendition's directory (playlist, init segment, media segments) and its playlist inside it. */
  directory: string;
  playlistPath: string;
}

export interface TranscodeOptions {
  /** A local path or a fenced object (loopback http URL, read by ranges). */
  input: string | MediaInput;
  /** The demuxer validateSource named; forced so the format is never guessed again. */
  container: SourceContainer;
  plan: TranscodePlan;
  outputDir: string;
  /** x264 preset (veryfast by default: ~2-3× medium's speed for a few % more bits). */
  preset?: string;
  /** The realtime budget of the ladder run (core/media/work.ts estimateWork); past it ffmpeg is stopped. */
  timeoutMs?: number;
  /** Stops the run at once (the worker lost its message's lease). */
  signal?: AbortSignal;
  binaries?: Binaries;
  /** Called once per finished rendition (e.g. to upload it) while the poster is made, before the master. */
  onRenditionReady?: (rendition: TranscodedRendition) => Promise<void> | void;
}

export interface TranscodeResult {
  renditions: TranscodedRendition[];
  masterPath: string;
  posterPath: string;
  thumbnailPath: string;
  /** The last lines of the ladder run's stderr, redacted, for logs. */
  stderrTail: string;
}

export async function transcodeToHls(options: TranscodeOptions): Promise<TranscodeResult> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const { plan } = options;
  const src = sourceInput(options.input);
  const outputDir = path.resolve(options.outputDir);
  const redact = [...src.redact, outputDir];
  await Promise.all(plan.renditions.map((r) => mkdir(path.join(outputDir, r.name), { recursive: true })));

  const timeoutMs = options.timeoutMs ?? 14 * 60_000;
  const ladder = await run(binaries.ffmpeg, ladderArgs(options, src, outputDir), {
    timeoutMs,
    signal: options.signal,
  });
  const stderrTail = tail(ladder.stderr, 20, redact);
  throwIfStorageFailed(src);
  if (ladder.aborted) throw new MediaToolError(`stopped: ${abortReason(options.signal)}`);
  if (ladder.timedOut) {
    throw new MediaToolError(
      `timed out: transcoding took longer than its budget of ${Math.round(timeoutMs / 1000)} s`,
    );
  }
  if (ladder.code !== 0) throw ffmpegFailure(ladder, redact);

  const renditions = await Promise.all(
    plan.renditions.map((r) => measureRendition(r, path.join(outputDir, r.name), plan.sourceDurationSeconds)),
  );
  const posterPath = path.join(outputDir, 'poster.jpg');
  const thumbnailPath = path.join(outputDir, 'thumbnail.jpg');
  await Promise.all([
    extractPoster(binaries, options, src, posterPath, thumbnailPath, redact),
    ...renditions.map((r) => options.onRenditionReady?.(r)),
  ]);

  const masterPath = path.join(outputDir, 'master.m3u8');
  const variants: VariantRef[] = renditions.map((r) => ({
    name: r.name,
    playlistUri: `${r.name}/${path.basename(r.playlistPath)}`,
    averageBandwidth: r.bitrate,
    peakBandwidth: r.peakBitrate,
    codecs: r.codecs,
  }));
  // Written last and atomically: whoever sees master.m3u8 sees a complete ladder.
  await writeFile(`${masterPath}.tmp`, masterPlaylist(plan, variants));
  await rename(`${masterPath}.tmp`, masterPath);
  return { renditions, masterPath, posterPath, thumbnailPath, stderrTail };
}

const SEGMENT_PATTERN = 'seg_%05d.m4s';
const PLAYLIST = 'index.m3u8';
const INIT_SEGMENT = 'init.mp4';

/**
 * The ladder's filter graph: decode once; deinterlace only frames flagged interlaced (camcorder MOVs);
 * resample to the plan's constant rate (phones record variable rate); then one scaler per rung, to
 * square pixels and 8-bit 4:2:0 so the stream matches the High-profile CODECS we publish. Output `[v<i>]`
 * is rung i. The chunked ladder (chunk.ts) runs the same graph over each chunk.
 */
export function ladderGraph(plan: TranscodePlan): string {
  const n = plan.renditions.length;
  const rate = `${plan.frameRate.numerator}/${plan.frameRate.denominator}`;
  return [
    `[0:${plan.streams.video}]yadif=deint=interlaced,fps=${rate},split=${n}${plan.renditions.map((_, i) => `[s${i}]`).join('')}`,
    ...plan.renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(';');
}

function ladderArgs(options: TranscodeOptions, src: SourceInput, outputDir: string): string[] {
  const { plan } = options;
  const graph = ladderGraph(plan);
  return [
    ...QUIET_FFMPEG,
    ...guardArgs(src),
    '-f',
    options.container,
    // Never more than the planned duration, whatever the timestamps inside say.
    '-t',
    `${plan.sourceDurationSeconds}`,
    '-i',
    src.url,
    '-filter_complex',
    graph,
    ...plan.renditions.flatMap((r, i) =>
      renditionOutputArgs(plan, r, i, path.join(outputDir, r.name), options.preset),
    ),
  ];
}

function renditionOutputArgs(
  plan: TranscodePlan,
  r: PlannedRendition,
  index: number,
  dir: string,
  preset = 'veryfast',
): string[] {
  const audio =
    plan.streams.audio === null
      ? []
      : [
          '-map',
          `0:${plan.streams.audio}`,
          '-c:a',
          'aac',
          '-b:a',
          `${r.audioBitrate}`,
          '-ac',
          '2',
          '-ar',
          '48000',
        ];
  return [
    '-map',
    `[v${index}]`,
    ...audio,
    // Nothing else from the source: no subtitles, data or attachments, and no global metadata or
    // chapters (phones record GPS location there; a public video should not publish it).
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-map_chapters',
    '-1',
    // Keyframes forced on segment boundaries, so segment N of every rendition covers the same frames and
    // players can switch at any boundary.
    ...x264Args(r, preset, plan.gopFrames, `expr:gte(t,n_forced*${plan.segmentSeconds})`),
    '-max_muxing_queue_size',
    '1024',
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
    '-hls_flags',
    'independent_segments',
    '-hls_segment_filename',
    path.join(dir, SEGMENT_PATTERN),
    path.join(dir, PLAYLIST),
  ];
}

interface MediaPlaylist {
  ended: boolean;
  segments: Array<{ uri: string; duration: number }>;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const segments: MediaPlaylist['segments'] = [];
  let pending: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line && !line.startsWith('#') && pending !== undefined) {
      segments.push({ uri: line, duration: pending });
      pending = undefined;
    }
  }
  return { ended: /^#EXT-X-ENDLIST\s*$/m.test(text), segments };
}

/**
 * Checks a finished variant and measures it: HLS BANDWIDTH is the peak segment bitrate, AVERAGE-BANDWIDTH
 * the whole variant's, and CODECS the H.264 profile/level actually written. A variant much shorter than the
 * source means the decoder ran out of data: a truncated upload whose index survived (moov at the front),
 * which ffmpeg otherwise reports as success.
 */
async function measureRendition(
  r: PlannedRendition,
  dir: string,
  sourceDurationSeconds: number,
): Promise<TranscodedRendition> {
  const playlistPath = path.join(dir, PLAYLIST);
  const playlist = parseMediaPlaylist(await readFile(playlistPath, 'utf8'));
  if (!playlist.ended || playlist.segments.length === 0) {
    throw new MediaToolError(`transcode failed: the ${r.name} playlist is incomplete`);
  }
  const durationSeconds = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
  if (durationSeconds < sourceDurationSeconds - Math.max(2, 0.02 * sourceDurationSeconds)) {
    throw new MediaRejectedError(
      `damaged or truncated: only ${formatDuration(durationSeconds)} of its ${formatDuration(sourceDurationSeconds)} could be decoded; upload the complete file again`,
    );
  }
  const sizes = await Promise.all(
    playlist.segments.map(async (s) => (await stat(path.join(dir, s.uri))).size),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const peakBitrate = Math.max(
    ...playlist.segments.map((s, i) => Math.ceil((sizes[i]! * 8) / Math.max(s.duration, 0.001))),
  );
  const [plannedVideo, ...audio] = r.codecs.split(',');
  const video = avcCodecFromInitSegment(await readFile(path.join(dir, INIT_SEGMENT))) ?? plannedVideo;
  return {
    name: r.name,
    width: r.width,
    height: r.height,
    bitrate: Math.ceil((totalBytes * 8) / durationSeconds),
    peakBitrate,
    codecs: [video, ...audio].join(','),
    durationSeconds,
    directory: dir,
    playlistPath,
  };
}

/**
 * One rung's H.264: its profile, level and rate control, and the same IDR cadence in every rung (a GOP of
 * `gopFrames`, no scene-cut keyframes), forced where `forceKeyFrames` says. Shared by the whole-ladder
 * run and the chunk jobs (chunk.ts), whose segments must be interchangeable.
 */
export function x264Args(
  r: PlannedRendition,
  preset: string,
  gopFrames: number,
  forceKeyFrames: string,
): string[] {
  return [
    '-c:v',
    'libx264',
    '-preset',
    preset,
    '-profile:v',
    r.profile,
    '-level:v',
    r.level,
    '-b:v',
    `${r.videoBitrate}`,
    '-maxrate',
    `${r.maxRate}`,
    '-bufsize',
    `${r.bufSize}`,
    '-g',
    `${gopFrames}`,
    '-keyint_min',
    `${gopFrames}`,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    forceKeyFrames,
  ];
}
