import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LAMBDA_RUNTIME, REPO_ROOT } from '../../lib/constructs/app-function.ts';

/** This directory: the placeholder asset when bundling is skipped, and the home of the README. */
const LAYER_DIR = fileURLToPath(new URL('./', import.meta.url));
/** Built layer trees and downloaded npm tarballs (gitignored with the rest of .build/). */
const CACHE_DIR = join(REPO_ROOT, '.build', 'ffmpeg-layer');

/** Context key: a directory holding `ffmpeg` and `ffprobe` to use instead of the npm static builds. */
export const FFMPEG_BINARIES_CONTEXT = 'ffmpegBinaries';

export const FFMPEG_TOOLS = ['ffmpeg', 'ffprobe'] as const;
export type FfmpegTool = (typeof FFMPEG_TOOLS)[number];

/** ELF e_machine of each Lambda architecture (x86-64 and AArch64). */
export const ELF_MACHINE: Record<string, number> = { x86_64: 0x3e, arm64: 0xb7 };
/** The npm platform suffix of @ffmpeg-installer/<platform> for each Lambda architecture. */
const NPM_PLATFORM: Record<string, string> = { x86_64: 'linux-x64', arm64: 'linux-arm64' };

export type FfmpegBinarySource =
  | { kind: 'directory'; directory: string }
  | { kind: 'npm'; architecture: lambda.Architecture };

interface NpmPackage {
  name: string;
  version: string;
  integrity: string;
}

/**
 * The static-build package of one tool for one architecture, pinned by package-lock.json: the
 * platform packages are optional dependencies of @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe,
 * so the lock file holds their exact version and sha512 even when npm skipped them on this machine.
 */
export function npmPackageFor(tool: FfmpegTool, architecture: lambda.Architecture): NpmPackage {
  const platform = NPM_PLATFORM[architecture.name];
  if (!platform) throw new Error(`No static ${tool} build on npm for architecture ${architecture.name}`);
  const name = `@${tool}-installer/${platform}`;
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) {
    throw new Error(`${name} is not in package-lock.json; run npm install to refresh the lock file`);
  }
  return { name, version: entry.version, integrity: entry.integrity };
}

/** The e_machine field of an ELF executable, or undefined when the file is not ELF. */
export function elfMachine(file: string): number | undefined {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  // EI_DATA (byte 5): 1 little-endian, 2 big-endian.
  return header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
}

/** One tool's binary from its npm package: node_modules when npm installed it here, else the tarball. */
function npmBinary(tool: FfmpegTool, architecture: lambda.Architecture): string {
  const pkg = npmPackageFor(tool, architecture);
  const installed = join(REPO_ROOT, 'node_modules', pkg.name);
  if (existsSync(join(installed, tool))) {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string };
    if (manifest.version === pkg.version) return join(installed, tool);
  }
  // npm skips platform packages that do not match this machine (an x64 CI building an arm64 layer), so
  // fetch the pinned tarball itself: `npm pack` goes through npm's own cache (offline once fetched).
  const unpacked = join(CACHE_DIR, 'npm', `${pkg.name.replace('/', '+')}@${pkg.version}`);
  const binary = join(unpacked, 'package', tool);
  if (existsSync(binary)) return binary;
  mkdirSync(join(CACHE_DIR, 'npm'), { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'npm', 'fetch-'));
  try {
    const [packed] = JSON.parse(
      execFileSync(
        'npm',
        ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', work, '--prefer-offline', '--json'],
        { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    ) as Array<{ filename: string }>;
    const tarball = join(work, packed!.filename);
    const [algorithm, expected] = pkg.integrity.split('-', 2) as [string, string];
    const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
    if (actual !== expected) {
      throw new Error(`${pkg.name}@${pkg.version}: tarball integrity ${algorithm}-${actual} != lock file's`);
    }
    execFileSync('tar', ['-xzf', tarball, '-C', work, `package/${tool}`]);
    rmSync(tarball);
    rmSync(unpacked, { recursive: true, force: true });
    renameSync(work, unpacked);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(
      `Cannot fetch ${pkg.name}@${pkg.version} for the ffmpeg layer (${(error as Error).message}). ` +
        `Without registry access, pass -c ${FFMPEG_BINARIES_CONTEXT}=<dir with static ffmpeg and ffprobe>.`,
    );
  }
  return binary;
}

/**
 * Builds the layer tree (`bin/ffmpeg`, `bin/ffprobe`, mode 0755; Lambda mounts it at /opt) from the
 * source, checks both are ELF executables for the architecture, and returns its directory. Cached
 * under .build/ffmpeg-layer by the identity of the inputs, so repeated synths copy nothing.
 */
export function buildFfmpegLayerDirectory(
  source: FfmpegBinarySource,
  architecture: lambda.Architecture,
): string {
  const inputs = FFMPEG_TOOLS.map((tool) =>
    source.kind === 'directory' ? resolve(source.directory, tool) : npmBinary(tool, source.architecture),
  );
  const identity = createHash('sha256');
  for (const file of inputs) {
    if (!existsSync(file)) throw new Error(`ffmpeg layer: ${file} does not exist`);
    const { size, mtimeMs } = statSync(file);
    identity.update(`${file}\0${size}\0${mtimeMs}\0`);
  }
  const outDir = join(CACHE_DIR, `${architecture.name}-${identity.digest('hex').slice(0, 16)}`);
  if (existsSync(join(outDir, 'bin', 'ffprobe'))) return outDir;

  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'bin'), { recursive: true });
  FFMPEG_TOOLS.forEach((tool, i) => {
    const target = join(staging, 'bin', tool);
    copyFileSync(inputs[i]!, target);
    chmodSync(target, 0o755);
    const machine = elfMachine(target);
    if (machine !== ELF_MACHINE[architecture.name]) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(
        `ffmpeg layer: ${inputs[i]} is not a Linux ${architecture.name} executable (ELF machine ${machine})`,
      );
    }
  });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return outDir;
}

export interface FfmpegLayerProps {
  /** Must match the functions that use the layer: the binaries are native code. */
  readonly architecture: lambda.Architecture;
}

/**
 * ffmpeg and ffprobe as a Lambda layer, at /opt/bin/ffmpeg and /opt/bin/ffprobe (what
 * lambdas/adapters/ffmpeg/binaries.ts looks for). Built at synth time without Docker: the static builds from
 * npm (@ffmpeg-installer/<platform>, @ffprobe-installer/<platform>, versions and hashes pinned by
 * package-lock.json), or the binaries in the directory given with `-c ffmpegBinaries=<dir>`. Skipped,
 * like esbuild bundling, for stacks that are not being bundled (`cdk synth --exclusively`, tests).
 */
export class FfmpegLayer extends Construct {
  public readonly layer: lambda.LayerVersion;
  public readonly architecture: lambda.Architecture;

  constructor(scope: Construct, id: string, props: FfmpegLayerProps) {
    super(scope, id);
    this.architecture = props.architecture;
    const directory: unknown = this.node.tryGetContext(FFMPEG_BINARIES_CONTEXT);
    const source: FfmpegBinarySource =
      typeof directory === 'string' && directory.length > 0
        ? { kind: 'directory', directory }
        : { kind: 'npm', architecture: props.architecture };
    const assetDir = Stack.of(this).bundlingRequired
      ? buildFfmpegLayerDirectory(source, props.architecture)
      : LAYER_DIR;
    const description =
      source.kind === 'npm'
        ? FFMPEG_TOOLS.map((tool) => {
            const pkg = npmPackageFor(tool, props.architecture);
            return `${pkg.name}@${pkg.version}`;
          }).join(', ')
        : 'ffmpeg and ffprobe from a local directory';
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(assetDir),
      compatibleArchitectures: [props.architecture],
      compatibleRuntimes: [LAMBDA_RUNTIME],
      description: `Static ffmpeg/ffprobe in /opt/bin (${description})`.slice(0, 256),
      // The npm static builds (johnvansickle.com) are GPL-3.0 builds of FFmpeg.
      license: 'GPL-3.0-or-later',
    });
  }
}
