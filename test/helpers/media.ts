import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';

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
  /** How long ffmpeg may take (exec's 60 s by default; a benchmark's long 1080p source needs more). */
  timeoutMs?: number;
}

/** A generated testsrc2 (+ sine) H.264/AAC clip: nothing binary is committed to the repository. */
export async function makeClip(dir: string, name: string, options: ClipOptions): Promise<string> {
  const { ffmpeg } = await resolveBinaries();
  const file = path.join(dir, name);
  const { width, height, seconds, audio = true, extra = [], timeoutMs } = options;
  const out = await exec(
    ffmpeg,
    [
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
    ],
    timeoutMs,
  );
  if (out.code !== 0) throw new Error(`ffmpeg could not make ${name}: ${out.stderr}`);
  return file;
}

/** Runs the resolved ffmpeg with the usual quiet flags; throws with its stderr when it fails. */
async function ffmpeg(args: string[]): Promise<void> {
  const { ffmpeg: bin } = await resolveBinaries();
  const out = await exec(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
  if (out.code !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${out.stderr}`);
}

/**
 * A timestamp bomb: a Matroska file of 120 real frames (4 s at 30 fps, 640x360) whose last frame is
 * stamped at 14,000 s, so it declares a 3h53m video. Encoded as it is, the encoder would make 3h53m of
 * copies of one picture per rung.
 */
export async function makeTimestampBomb(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4'],
    ...['-vf', "setpts='if(eq(N,119),14000/TB,PTS)'", '-vsync', '0'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-f', 'matroska', file],
  ]);
  return file;
}

/**
 * An MJPEG MOV whose header says 16x16 (2 s at 10 fps) and whose every JPEG says 16000x16000: the SOF0
 * marker of each frame is rewritten in place. ffprobe describes a 16x16 video; a decoder that believes
 * the JPEGs allocates 16000x16000 pictures and finds no data for them.
 */
export async function makeMjpegSizeBomb(dir: string, name: string): Promise<string> {
  const small = path.join(dir, `${name}.small.mov`);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=16x16:rate=10:duration=2'],
    ...['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-f', 'mov', small],
  ]);
  const bytes = await readFile(small);
  let patched = 0;
  for (let i = bytes.indexOf(SOF0); i >= 0; i = bytes.indexOf(SOF0, i + 2)) {
    // FF C0, length (2), precision (1), height (2), width (2)
    if (bytes.readUInt16BE(i + 5) === 16 && bytes.readUInt16BE(i + 7) === 16) {
      bytes.writeUInt16BE(16000, i + 5);
      bytes.writeUInt16BE(16000, i + 7);
      patched += 1;
    }
  }
  if (patched === 0) throw new Error('no 16x16 SOF0 marker to rewrite');
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

const SOF0 = Buffer.from([0xff, 0xc0]);

/**
 * An MJPEG MOV whose header and first frame are 16x16, with a real 8000x8000 JPEG as its second frame:
 * the first decoded frame matches the header, the bitstream then grows past every limit.
 */
export async function makeMjpegGrowingBomb(dir: string, name: string): Promise<string> {
  const frames = path.join(dir, `${name}-frames`);
  await mkdir(frames, { recursive: true });
  const jpeg = (size: string, file: string) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', `color=c=gray:size=${size}:rate=1:duration=1`],
      ...['-frames:v', '1', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', path.join(frames, file)],
    ]);
  await jpeg('16x16', 'f1.jpg');
  await jpeg('8000x8000', 'f2.jpg');
  await copyFile(path.join(frames, 'f1.jpg'), path.join(frames, 'f3.jpg'));
  const file = path.join(dir, name);
  await ffmpeg(['-framerate', '1', '-i', path.join(frames, 'f%d.jpg'), '-c:v', 'copy', '-f', 'mov', file]);
  return file;
}
