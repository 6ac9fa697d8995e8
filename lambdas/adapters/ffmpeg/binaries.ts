/** Which ffmpeg/ffprobe run: FFMPEG_PATH/FFPROBE_PATH, the Lambda layer, PATH, or the npm static builds. */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { MediaToolError } from '#core/media/errors.ts';
import { mediaToolsConfig } from '#shared/config.ts';
import { run } from './process.ts';

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
  const timeoutMs = 10_000;
  const out = await run(ffmpeg, ['-hide_banner', '-version'], { timeoutMs });
  const version = /^ffmpeg version (\S+)/.exec(out.stdout)?.[1];
  if (out.code !== 0 || !version) {
    // Say why: a first run from a cold disk cache on a loaded machine once took longer than the limit.
    const why = out.timedOut
      ? `no answer within ${timeoutMs / 1000} s`
      : out.stderr.trim() || `exit code ${out.code ?? out.signal}, and no version on its output`;
    throw new MediaToolError(`${ffmpeg} -version failed: ${why}`);
  }
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
