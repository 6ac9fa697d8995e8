/**
 * ffprobe/ffmpeg, run as child processes with hostile input in mind (reliability.md §2.3):
 * - only the demuxers we accept may run (`-format_whitelist`), and the transcoder forces the one the probe
 *   found (`-f mov|matroska`), so a playlist, concat script or AVI-with-GAB2 never reaches a demuxer that
 *   opens other files;
 * - only the protocols the input needs may be opened (`-protocol_whitelist`), nested opens included, and
 *   an http input must be a loopback IP literal: ffmpeg never resolves a hostname (the npm static builds
 *   segfault in getaddrinfo), it reads storage through a loopback object fence (object-fence.ts);
 * - decoders may not allocate a picture larger than the limits admit (`-max_pixels`);
 * - only the validated video and audio streams are mapped; subtitles, data and attachments are dropped;
 * - children get a minimal environment (no AWS credentials to read back through /proc/self/environ), a
 *   timeout, and a cap on what they may print;
 * - a failed run is the file's fault (MediaRejectedError, permanent) unless something of ours failed:
 *   storage, memory, disk, a time limit, a signal we did not send (MediaToolError, retried).
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
  DEFAULT_SOURCE_LIMITS,
  DEMUXER_WHITELIST,
  type FfprobeOutput,
  ffprobeOutputSchema,
  formatDuration,
  MAX_SOURCE_PIXELS,
  type SourceContainer,
  unsupportedContainerReason,
} from '#core/media/probe.ts';
import {
  MAX_SCANNED_PACKETS,
  type PacketTime,
  summarizePackets,
  type VideoEvidence,
} from '#core/media/work.ts';
import { mediaToolsConfig } from '#shared/config.ts';

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
  const { ffmpegPath, ffprobePath } = mediaToolsConfig();
  const ffmpeg = await locate('ffmpeg', ffmpegPath, '@ffmpeg-installer/ffmpeg');
  const ffprobe = await locate('ffprobe', ffprobePath, '@ffprobe-installer/ffprobe');
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
  /** Kill the child when this aborts (the worker lost its message, or is shutting down). */
  signal?: AbortSignal;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last STDERR_TAIL_BYTES of stderr. */
  stderr: string;
  timedOut: boolean;
  stdoutOverflow: boolean;
  /** Killed because options.signal aborted. */
  aborted: boolean;
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
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const abort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener('abort', abort, { once: true });
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
      options.signal?.removeEventListener('abort', abort);
      reject(new MediaToolError(`could not start ${path.basename(bin)}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr,
        timedOut,
        stdoutOverflow,
        aborted,
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
  /** What ffmpeg opens: `file:/abs/path` or a loopback http URL. */
  url: string;
  protocols: string;
  /** Strings to keep out of error messages and logs. */
  redact: string[];
  /** Set for inputs read from storage: the first storage error met while serving them. */
  storageFailure?: () => Error | undefined;
}

/** Where an http input may point: ffmpeg connects to an IP literal on this machine and resolves nothing. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** A stored object behind a loopback fence (object-fence.ts), or a local path. */
export interface MediaInput {
  url: string;
  redact?: readonly string[];
  storageFailure?: () => Error | undefined;
}

/**
 * A local path is opened through `file:` explicitly, so a name like "concat:a|b" or "subfile:..." can never
 * select a protocol. A URL input must be plain http to a loopback IP literal (an object fence): only
 * `http` and `tcp` are opened, never `file`, and no name is ever looked up.
 */
function sourceInput(input: string | MediaInput): SourceInput {
  const { url: raw, redact = [], storageFailure } = typeof input === 'string' ? { url: input } : input;
  if (/^https?:\/\//i.test(raw)) {
    const url = new URL(raw);
    if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new MediaToolError(
        `refusing to let ffmpeg open ${url.protocol}//${url.hostname}: it reads storage through a loopback ` +
          'object fence (lambdas/adapters/object-fence.ts) and never resolves a hostname',
      );
    }
    return {
      url: url.href,
      protocols: 'http,tcp',
      redact: [...redact, raw, url.href, url.pathname, url.search].filter((s) => s && s !== '/'),
      storageFailure,
    };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new MediaToolError(
      `unsupported input scheme: ${raw.split(':')[0]} (expected a path or a loopback http URL)`,
    );
  }
  const absolute = path.resolve(raw);
  return { url: `file:${absolute}`, protocols: 'file', redact: [...redact, absolute, raw], storageFailure };
}

/** Options that go before every `-i`: what may be opened and parsed, and how large a picture may be. */
function guardArgs(src: SourceInput): string[] {
  return [
    '-protocol_whitelist',
    src.protocols,
    '-format_whitelist',
    DEMUXER_WHITELIST.join(','),
    '-max_pixels',
    `${MAX_SOURCE_PIXELS}`,
  ];
}

/** "[IMGUTILS @ 0x..] Picture size 16000x16000 exceeds specified max pixel count": the decoder refused it. */
function oversizedPicture(stderr: string): string | undefined {
  const found = /Picture size (\d+)x(\d+) (?:exceeds specified max pixel count|is invalid)/.exec(stderr);
  if (!found) return undefined;
  const { maxLongSide, maxShortSide } = DEFAULT_SOURCE_LIMITS;
  return `resolution ${found[1]}x${found[2]} is over the ${maxLongSide}x${maxShortSide} limit`;
}

/**
 * Storage failed while ffmpeg read through the fence: whatever ffmpeg made of the bytes it got (an error,
 * or "success" on a cut-short file), the run says nothing about the file. Checked after every run.
 */
function throwIfStorageFailed(src: SourceInput): void {
  const storage = src.storageFailure?.();
  if (storage) throw new MediaToolError(`could not read the source from storage: ${storage.message}`);
}

// ---------------------------------------------------------------------------------------------------------
// Probe

export interface ProbeOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  binaries?: Binaries;
}

/** ffprobe's JSON for a local file or a fenced object, or a MediaRejectedError saying why not. */
export async function probe(input: string | MediaInput, options: ProbeOptions = {}): Promise<FfprobeOutput> {
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
  throwIfStorageFailed(src);
  if (out.timedOut) throw new MediaToolError(`timed out: ffprobe took longer than ${timeoutMs / 1000} s`);
  if (out.stdoutOverflow) {
    throw new MediaRejectedError(
      'unreadable: the file declares too many streams or tags to be a normal video',
    );
  }
  if (out.code !== 0) throw probeFailure(out, src);
  // The decoder met a picture over the limit while ffprobe looked at the first frames; whatever the
  // header says, that is the file's size.
  const oversized = oversizedPicture(out.stderr);
  if (oversized) throw new MediaRejectedError(oversized);
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
  // Trouble reading over http (a refused or reset connection) is ours to retry, not the file's fault.
  if (src.protocols !== 'file' && /Server returned|Connection|timed out|resolve/i.test(line ?? '')) {
    return new MediaToolError(`could not read the source: ${line}`);
  }
  return new MediaRejectedError(`unreadable: ${line ?? 'ffprobe could not parse the file'}`);
}

// ---------------------------------------------------------------------------------------------------------
// Evidence: what the content says, against what the header declares (core/media/work.ts judges it)

export interface InspectOptions {
  binaries?: Binaries;
  /** Time for each of the two reads; a scan cut short by it keeps what it read (complete: false). */
  timeoutMs?: number;
  maxPackets?: number;
}

/**
 * Reads the timestamps and sizes of the video stream's packets (demuxing only, up to `maxPackets`), and
 * decodes its first picture with the decoder capped at MAX_SOURCE_PIXELS, both at once.
 */
export async function inspectVideo(
  input: string | MediaInput,
  streamIndex: number,
  options: InspectOptions = {},
): Promise<VideoEvidence> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const src = sourceInput(input);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const [packets, firstFrame] = await Promise.all([
    scanPackets(binaries, src, streamIndex, options.maxPackets ?? MAX_SCANNED_PACKETS, timeoutMs),
    decodeFirstFrame(binaries, src, streamIndex, timeoutMs),
  ]);
  return { packets, firstFrame };
}

async function scanPackets(
  binaries: Binaries,
  src: SourceInput,
  streamIndex: number,
  maxPackets: number,
  timeoutMs: number,
): Promise<VideoEvidence['packets']> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-select_streams',
    `${streamIndex}`,
    '-read_intervals',
    `%+#${maxPackets}`,
    '-show_entries',
    'packet=pts_time,dts_time,duration_time,size',
    '-print_format',
    'compact=p=0',
    '-i',
    src.url,
  ];
  // About 80 bytes a packet; the cap keeps a hostile file from making ffprobe print without end.
  const out = await run(binaries.ffprobe, args, { timeoutMs, maxStdoutBytes: maxPackets * 200 });
  throwIfStorageFailed(src);
  if (!out.timedOut && !out.stdoutOverflow && out.code !== 0) {
    throw evidenceFailure(out, src, 'reading its packets');
  }
  const lines = out.stdout.split('\n');
  // A scan stopped by the time limit ends mid-line: the last line is not a packet.
  if (out.timedOut || out.stdoutOverflow) lines.pop();
  const packets: PacketTime[] = [];
  for (const line of lines) {
    if (!line) continue;
    const fields = Object.fromEntries(line.split('|').map((kv) => kv.split('=') as [string, string]));
    const pts = Number.parseFloat(fields.pts_time ?? '');
    const dts = Number.parseFloat(fields.dts_time ?? '');
    const duration = Number.parseFloat(fields.duration_time ?? '');
    packets.push({
      seconds: Number.isFinite(pts) ? pts : dts,
      ...(Number.isFinite(duration) ? { durationSeconds: duration } : {}),
      bytes: Number.parseInt(fields.size ?? '0', 10) || 0,
    });
  }
  const complete = out.code === 0 && !out.timedOut && packets.length < maxPackets;
  return summarizePackets(packets, complete);
}

async function decodeFirstFrame(
  binaries: Binaries,
  src: SourceInput,
  streamIndex: number,
  timeoutMs: number,
): Promise<VideoEvidence['firstFrame']> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-select_streams',
    `${streamIndex}`,
    // A few packets: a decoder may need more than one before its first picture comes out.
    '-read_intervals',
    '%+#10',
    '-show_entries',
    'frame=width,height',
    '-print_format',
    'json',
    '-i',
    src.url,
  ];
  const out = await run(binaries.ffprobe, args, { timeoutMs, maxStdoutBytes: 64 * 1024 });
  throwIfStorageFailed(src);
  if (out.timedOut)
    throw new MediaToolError(`timed out: decoding the first frame took longer than ${timeoutMs / 1000} s`);
  if (out.code !== 0) throw evidenceFailure(out, src, 'decoding its first frame');
  const oversized = oversizedPicture(out.stderr);
  if (oversized) throw new MediaRejectedError(oversized);
  const frames = (JSON.parse(out.stdout || '{}') as { frames?: Array<{ width?: number; height?: number }> })
    .frames;
  const first = frames?.find((f) => f.width && f.height);
  return first ? { width: first.width!, height: first.height! } : null;
}

function evidenceFailure(out: RunResult, src: SourceInput, what: string): Error {
  const failure = ffmpegFailure(out, src.redact);
  return failure instanceof MediaToolError
    ? new MediaToolError(`inspecting the source failed ${what}: ${failure.message}`)
    : new MediaRejectedError(`unreadable: ${lastMeaningfulLine(out.stderr, src.redact) ?? `failed ${what}`}`);
}

// ---------------------------------------------------------------------------------------------------------
// Whose fault a failed run is

/** Our side: memory, disk, the machine. */
const RESOURCE_TROUBLE =
  /Cannot allocate memory|Out of memory|No space left on device|Resource temporarily unavailable|Too many open files/i;
/** The input pipe broke (the fence went away, a connection was reset): not something the file did. */
const INPUT_TROUBLE =
  /Connection refused|Connection reset|Broken pipe|Connection timed out|Server returned 5\d\d/i;
/** Arguments ffmpeg could not use: a fault in the plan or the command, which is ours. */
const COMMAND_TROUBLE =
  /matches no streams|Unrecognized option|Option \S+ not found|No such filter|Invalid stream specifier|Error parsing (?:a )?filter/i;
/** Signals that mean "killed from outside" (the OOM killer, a shutdown) rather than "crashed on the input". */
const OUTSIDE_SIGNALS = new Set<NodeJS.Signals>(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP']);

/**
 * A failed ffmpeg/ffprobe run (storage having served it fine) as an error the pipeline can act on:
 * MediaToolError (ours: retried) when a signal came from outside, memory or disk ran out, the input connection broke
 * or our own arguments were wrong; otherwise MediaRejectedError (the file's: permanent), because the same
 * decoder on the same bytes fails the same way every time.
 */
function ffmpegFailure(out: RunResult, redact: readonly string[]): Error {
  const tool = 'ffmpeg';
  const line = lastMeaningfulLine(out.stderr, redact);
  if (out.signal && OUTSIDE_SIGNALS.has(out.signal)) {
    return new MediaToolError(`${tool} was killed (${out.signal}; out of memory?)${line ? `: ${line}` : ''}`);
  }
  if (
    RESOURCE_TROUBLE.test(out.stderr) ||
    INPUT_TROUBLE.test(out.stderr) ||
    COMMAND_TROUBLE.test(out.stderr)
  ) {
    return new MediaToolError(`transcode failed: ${line ?? `${tool} exited with code ${out.code}`}`);
  }
  if (out.signal) {
    return new MediaRejectedError(
      `could not be decoded: the decoder crashed on this file (${out.signal}); export it again (for example as H.264 MP4) and upload the new file`,
    );
  }
  const oversized = oversizedPicture(out.stderr);
  if (oversized) return new MediaRejectedError(oversized);
  return new MediaRejectedError(
    `could not be decoded: ${line ?? `${tool} exited with code ${out.code}`}; export it again (for example as H.264 MP4) and upload the new file`,
  );
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

function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted');
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
    return run(binaries.ffmpeg, args, { timeoutMs: 60_000, signal: options.signal });
  };
  const exists = async () => (await fileSize(posterPath)) > 0 && (await fileSize(thumbnailPath)) > 0;
  let out = await grab(plan.poster.atSeconds);
  // Seeking past the last video frame (audio longer than video) encodes nothing; the first frame will do.
  if (out.code === 0 && !(await exists()) && plan.poster.atSeconds > 0) out = await grab(0);
  throwIfStorageFailed(src);
  if (out.aborted) throw new MediaToolError(`stopped: ${abortReason(options.signal)}`);
  if (out.timedOut) throw new MediaToolError('timed out: the poster took longer than 60 s');
  if (out.code !== 0) {
    const failure = ffmpegFailure(out, redact);
    throw failure instanceof MediaToolError
      ? new MediaToolError(`poster failed: ${failure.message}`)
      : failure;
  }
  if (!(await exists())) {
    throw new MediaRejectedError(
      'could not be decoded: no picture of the video could be made into a poster; export it again and upload the new file',
    );
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
