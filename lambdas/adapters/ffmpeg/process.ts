/**
 * Running ffmpeg/ffprobe as child processes with hostile input in mind (reliability.md §2.3): children get
 * a minimal environment (no AWS credentials to read back through /proc/self/environ), a timeout, and a cap
 * on what they may print. A failed run is the file's fault (MediaRejectedError, permanent) unless
 * something of ours failed: storage, memory, disk, a time limit, a signal we did not send (MediaToolError,
 * retried).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { DEFAULT_SOURCE_LIMITS } from '#core/media/probe.ts';

export interface RunOptions {
  timeoutMs: number;
  /** Kill the child if stdout grows past this. */
  maxStdoutBytes?: number;
  /** Kill the child when this aborts (the worker lost its message, or is shutting down). */
  signal?: AbortSignal;
}

export interface RunResult {
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

/**
 * Children still running. A child outlives a process that exits without waiting for it (reparented to
 * init, encoding on): the local runtime exits that way after a 10 s grace, so every child is killed on
 * the way out. (A Lambda's children end with its sandbox.)
 */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function run(bin: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    running.add(child);
    child.once('exit', () => running.delete(child));
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
      running.delete(child);
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

export function tail(stderr: string, lines: number, redact: readonly string[]): string {
  let out = stderr.split(/\r?\n/).slice(-lines).join('\n');
  for (const secret of redact) if (secret) out = out.split(secret).join('<input>');
  return out;
}

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
export function ffmpegFailure(out: RunResult, redact: readonly string[]): Error {
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

/** "[IMGUTILS @ 0x..] Picture size 16000x16000 exceeds specified max pixel count": the decoder refused it. */
export function oversizedPicture(stderr: string): string | undefined {
  const found = /Picture size (\d+)x(\d+) (?:exceeds specified max pixel count|is invalid)/.exec(stderr);
  if (!found) return undefined;
  const { maxLongSide, maxShortSide } = DEFAULT_SOURCE_LIMITS;
  return `resolution ${found[1]}x${found[2]} is over the ${maxLongSide}x${maxShortSide} limit`;
}

export function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted');
}
