import { execFile } from 'node:child_process';
import path from 'node:path';
import { resolveBinaries } from '#adapters/ffmpeg.ts';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a binary to completion (never rejects: the caller asserts on code and stderr). */
export function exec(bin: string, args: string[], timeoutMs = 60_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface ClipOptions {
  width: number;
  height: number;
  seconds: number;
  /** A 440 Hz tone; default true. */
  audio?: boolean;
  /** Output options placed before the file name (e.g. ['-movflags', '+faststart']). */
  extra?: string[];
}

/** A generated testsrc2 (+ sine) H.264/AAC clip: nothing binary is committed to the repository. */
export async function makeClip(dir: string, name: string, options: ClipOptions): Promise<string> {
  const { ffmpeg } = await resolveBinaries();
  const file = path.join(dir, name);
  const { width, height, seconds, audio = true, extra = [] } = options;
  const out = await exec(ffmpeg, [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=30:duration=${seconds}`,
    ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    ...(audio ? ['-c:a', 'aac', '-shortest'] : []),
    ...extra,
    file,
  ]);
  if (out.code !== 0) throw new Error(`ffmpeg could not make ${name}: ${out.stderr}`);
  return file;
}
