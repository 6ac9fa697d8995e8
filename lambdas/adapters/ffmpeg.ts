/**
 * ffprobe/ffmpeg, run as child processes with hostile input in mind (reliability.md §2.3):
 * - only the demuxers we accept may run (`-format_whitelist`), and the transcoder forces the one the probe
 *   found (`-f mov|matroska`), so a playlist, concat script or AVI-with-GAB2 never reaches a demuxer that
 *   opens other files;
 * - only the protocols the input needs may be opened (`-protocol_whitelist`), nested opens included;
 * - only the validated video and audio streams are mapped; subtitles, data and attachments are dropped;
 * - children get a minimal environment (no AWS credentials to read back through /proc/self/environ), a
 *   timeout, and a cap on what they may print.
 *
 * The ladder is ONE ffmpeg process (decode once, `split` into N scalers, N separate `-f hls` outputs): the
 * npm 2018 static build segfaults with `-var_stream_map`, so the master playlist is ours (core/media/hls.ts),
 * written last.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { avcCodecFromInitSegment, masterPlaylist, type VariantRef } from '#core/media/hls.ts';
import type { PlannedRendition, RenditionName, TranscodePlan } from '#core/media/ladder.ts';
import {
  DEMUXER_WHITELIST,
  type FfprobeOutput,
  ffprobeOutputSchema,
  formatDuration,
  type SourceContainer,
  unsupportedContainerReason,
} from '#core/media/probe.ts';

export { MediaRejectedError, MediaToolError };

export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
  /** ffmpeg's version string, e.g. "5.1.9-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  version: string;
}

let resolved: Promise<Binaries> | undefined;

/**
 * FFMPEG_PATH/FFPROBE_PATH, else the Lambda layer's /opt/bin, else PATH, else the npm static builds.
 * Resolved once per process.
 */
export function resolveBinaries(): Promise<Binaries> {
  resolved ??= locateBinaries().catch((err: unknown) => {
    resolved = undefined;
    throw err;
  });
  return resolved;
}

async function locateBinaries(): Promise<Binaries> {
  const ffmpeg = await locate('ffmpeg', process.env.FFMPEG_PATH, '@ffmpeg-installer/ffmpeg');
  const ffprobe = await locate('ffprobe', process.env.FFPROBE_PATH, '@ffprobe-installer/ffprobe');
  const out = await run(ffmpeg, ['-hide_banner', '-version'], { timeoutMs: 10_000 });
  const version = /^ffmpeg version (\S+)/.exec(out.stdout)?.[1];
  if (out.code !== 0 || !version) throw new MediaToolError(`${ffmpeg} -version failed: ${out.stderr.trim()}`);
  return { ffmpeg, ffprobe, version };
}

async function locate(name: string, fromEnv: string | undefined, npmPackage: string): Promise<string> {
  if (fromEnv) return fromEnv;
  const dirs = ['/opt/bin', ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  const fromNpm = await npmBinary(npmPackage);
  if (fromNpm) return fromNpm;
  throw new MediaToolError(
    `${name} not found: install it (apt-get install ffmpeg), set ${name.toUpperCase()}_PATH, or npm install ${npmPackage}`,
  );
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The specifier is a variable on purpose: bundlers leave the import alone, so a Lambda bundle that uses
 * the layer's binaries neither bundles 70 MB of ffmpeg nor breaks on the package's __dirname lookups.
 */
async function npmBinary(specifier: string): Promise<string | undefined> {
  try {
    const mod: { default?: { path?: unknown } } = await import(specifier);
    const file = mod.default?.path;
    return typeof file === 'string' && (await isExecutable(file)) ? file : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Running a child

interface RunOptions {
  timeoutMs: number;
  /** Kill the child if stdout grows past this. */
  maxStdoutBytes?: number;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last STDERR_TAIL_BYTES of stderr. */
  stderr: string;
  timedOut: boolean;
  stdoutOverflow: boolean;
}

const STDERR_TAIL_BYTES = 16 * 1024;

/** Only what the binaries need: the parent's AWS credentials must not be one `/proc/self/environ` away. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', AV_LOG_FORCE_NOCOLOR: '1' };
  if (process.env.LD_LIBRARY_PATH) env.LD_LIBRARY_PATH = process.env.LD_LIBRARY_PATH;
  return env;
}

function run(bin: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let timedOut = false;
    let stdoutOverflow = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (options.maxStdoutBytes !== undefined && stdoutBytes > options.maxStdoutBytes) {
        stdoutOverflow = true;
        child.kill('SIGKILL');
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new MediaToolError(`could not start ${path.basename(bin)}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr,
        timedOut,
        stdoutOverflow,
      });
    });
  });
}

/** Lines ffmpeg prints after the real error, which say nothing about the cause. */
const GENERIC_LINE =
  /^(Conversion failed!?|Exiting normally.*|\s*Last message repeated.*|Error while \w+ .*)$/i;

/**
 * The last line that says what went wrong, without ffmpeg's "[demuxer @ 0x...]" prefixes and with any
 * path or (presigned, credential-bearing) URL replaced, so it is fit for logs and failure reasons.
 */
export function lastMeaningfulLine(stderr: string, redact: readonly string[] = []): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => {
      let clean = line.replace(/\[[^\]]* @ 0x[0-9a-f]+\]\s*/g, '').trim();
      for (const secret of redact) if (secret) clean = clean.split(secret).join('<input>');
      return clean;
    })
    .filter((line) => line && !GENERIC_LINE.test(line));
  const last = lines[lines.length - 1];
  return last && last.length > 300 ? `${last.slice(0, 297)}...` : last;
}

function tail(stderr: string, lines: number, redact: readonly string[]): string {
  let out = stderr.split(/\r?\n/).slice(-lines).join('\n');
  for (const secret of redact) if (secret) out = out.split(secret).join('<input>');
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Inputs

interface SourceInput {
  /** What ffmpeg opens: `file:/abs/path` or the http(s) URL. */
  url: string;
  protocols: string;
  /** Strings to keep out of error messages and logs. */
  redact: string[];
}

/**
 * A local path is opened through `file:` explicitly, so a name like "concat:a|b" or "subfile:..." can never
 * select a protocol. A URL input may use http(s) and what https runs on (tls, tcp), but not `file`.
 */
function sourceInput(input: string): SourceInput {
  if (/^https?:\/\//i.test(input)) {
    const url = new URL(input);
    return { url: url.href, protocols: 'http,https,tls,tcp', redact: [input, url.href, url.search] };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    throw new MediaToolError(
      `unsupported input scheme: ${input.split(':')[0]} (expected a path or an http(s) URL)`,
    );
  }
  const absolute = path.resolve(input);
  return { url: `file:${absolute}`, protocols: 'file', redact: [absolute, input] };
}

/** Options that go before every `-i`: what may be opened and parsed. */
function guardArgs(src: SourceInput): string[] {
  return ['-protocol_whitelist', src.protocols, '-format_whitelist', DEMUXER_WHITELIST.join(',')];
}

// ---------------------------------------------------------------------------------------------------------
// Probe

export interface ProbeOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  binaries?: Binaries;
}

/** ffprobe's JSON for a local file or one presigned http(s) URL, or a MediaRejectedError saying why not. */
export async function probe(input: string, options: ProbeOptions = {}): Promise<FfprobeOutput> {
  const { ffprobe } = options.binaries ?? (await resolveBinaries());
  const src = sourceInput(input);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-i',
    src.url,
  ];
  const out = await run(ffprobe, args, { timeoutMs, maxStdoutBytes: options.maxOutputBytes ?? 1024 * 1024 });
  if (out.timedOut) throw new MediaToolError(`timed out: ffprobe took longer than ${timeoutMs / 1000} s`);
  if (out.stdoutOverflow) {
    throw new MediaRejectedError(
      'unreadable: the file declares too many streams or tags to be a normal video',
    );
  }
  if (out.code !== 0) throw probeFailure(out, src);
  let json: unknown;
  try {
    json = JSON.parse(out.stdout);
  } catch {
    throw new MediaRejectedError('unreadable: ffprobe could not describe the file');
  }
  const parsed = ffprobeOutputSchema.safeParse(json);
  if (!parsed.success) throw new MediaRejectedError('unreadable: ffprobe could not parse the file');
  return parsed.data;
}

function probeFailure(out: RunResult, src: SourceInput): Error {
  const blocked = /\[([^\]\s]+) @ 0x[0-9a-f]+\] Format not on whitelist/.exec(out.stderr);
  if (blocked) return new MediaRejectedError(unsupportedContainerReason(blocked[1]!));
  if (/moov atom not found/.test(out.stderr)) {
    return new MediaRejectedError(
      'unreadable: the MP4/MOV file is incomplete or damaged (its moov index is missing); export or upload it again',
    );
  }
  if (/Invalid data found when processing input/.test(out.stderr)) {
    return new MediaRejectedError(
      'unreadable: ffprobe could not parse the file as MP4/MOV or Matroska/WebM video',
    );
  }
  const line = lastMeaningfulLine(out.stderr, src.redact);
  if (out.signal) return new MediaToolError(`ffprobe crashed (${out.signal})${line ? `: ${line}` : ''}`);
  // Network trouble reading a presigned URL (expired, 403, reset) is ours to retry, not the file's fault.
  if (src.protocols !== 'file' && /Server returned|Connection|timed out|resolve/i.test(line ?? '')) {
    return new MediaToolError(`could not read the source: ${line}`);
  }
  return new MediaRejectedError(`unreadable: ${line ?? 'ffprobe could not parse the file'}`);
}

// ---------------------------------------------------------------------------------------------------------
// Transcode

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
  /** A local path or one presigned http(s) URL. */
  input: string;
  /** The demuxer validateSource named; forced so the format is never guessed again. */
  container: SourceContainer;
  plan: TranscodePlan;
  outputDir: string;
  /** x264 preset (veryfast by default: ~2-3× medium's speed for a few % more bits). */
  preset?: string;
  timeoutMs?: number;
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
  const ladder = await run(binaries.ffmpeg, ladderArgs(options, src, outputDir), { timeoutMs });
  const stderrTail = tail(ladder.stderr, 20, redact);
  if (ladder.timedOut)
    throw new MediaToolError(`timed out: transcoding took longer than ${timeoutMs / 1000} s`);
  if (ladder.code !== 0) {
    const line = lastMeaningfulLine(ladder.stderr, redact);
    const how = ladder.signal
      ? `ffmpeg crashed (${ladder.signal})`
      : `ffmpeg exited with code ${ladder.code}`;
    throw new MediaToolError(`transcode failed: ${line ?? how}`);
  }

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

function ladderArgs(options: TranscodeOptions, src: SourceInput, outputDir: string): string[] {
  const { plan } = options;
  const n = plan.renditions.length;
  const rate = `${plan.frameRate.numerator}/${plan.frameRate.denominator}`;
  // Decode once; deinterlace only frames flagged interlaced (camcorder MOVs); resample to the plan's
  // constant rate (phones record variable rate); then one scaler per rung, to square pixels and 8-bit 4:2:0
  // so the stream matches the High-profile CODECS we publish.
  const graph = [
    `[0:${plan.streams.video}]yadif=deint=interlaced,fps=${rate},split=${n}${plan.renditions.map((_, i) => `[s${i}]`).join('')}`,
    ...plan.renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(';');
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-v',
    'error',
    '-y',
    ...guardArgs(src),
    '-f',
    options.container,
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
    // Same IDR cadence in every rung (no scene-cut keyframes), forced on segment boundaries, so segment
    // N of every rendition covers the same frames and players can switch at any boundary.
    '-g',
    `${plan.gopFrames}`,
    '-keyint_min',
    `${plan.gopFrames}`,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:gte(t,n_forced*${plan.segmentSeconds})`,
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

/** Poster at the top rung's size and a 320-wide thumbnail, from one input-seeked decode. */
async function extractPoster(
  binaries: Binaries,
  options: TranscodeOptions,
  src: SourceInput,
  posterPath: string,
  thumbnailPath: string,
  redact: readonly string[],
): Promise<void> {
  const { plan } = options;
  const grab = async (atSeconds: number) => {
    const { poster, thumbnail } = plan;
    const graph =
      `[0:${plan.streams.video}]split=2[p][t];` +
      `[p]scale=${poster.width}:${poster.height},setsar=1,format=yuvj420p[po];` +
      `[t]scale=${thumbnail.width}:${thumbnail.height},setsar=1,format=yuvj420p[th]`;
    const args = [
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-v',
      'error',
      '-y',
      ...guardArgs(src),
      // Before -i: seek in the demuxer to the nearest keyframe instead of decoding everything up to it.
      '-ss',
      `${atSeconds}`,
      '-f',
      options.container,
      '-i',
      src.url,
      '-filter_complex',
      graph,
      '-map',
      '[po]',
      '-frames:v',
      '1',
      '-q:v',
      '3',
      posterPath,
      '-map',
      '[th]',
      '-frames:v',
      '1',
      '-q:v',
      '4',
      thumbnailPath,
    ];
    return run(binaries.ffmpeg, args, { timeoutMs: 60_000 });
  };
  const exists = async () => (await fileSize(posterPath)) > 0 && (await fileSize(thumbnailPath)) > 0;
  let out = await grab(plan.poster.atSeconds);
  // Seeking past the last video frame (audio longer than video) encodes nothing; the first frame will do.
  if (out.code === 0 && !(await exists()) && plan.poster.atSeconds > 0) out = await grab(0);
  if (out.code !== 0 || !(await exists())) {
    const line = lastMeaningfulLine(out.stderr, redact) ?? 'no frame could be decoded';
    throw new MediaToolError(`poster failed: ${line}`);
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
