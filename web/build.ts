import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Builds the browser client into web/dist: one ES module entry (plus lazily loaded chunks for the
 * upload engine and the HLS player), one stylesheet, content-hashed names under assets/, and an
 * index.html that points at them. `--if-stale` skips the build when dist is newer than every input,
 * so `npm start` pays for it only after a change.
 */
const webDir = dirname(fileURLToPath(import.meta.url));
export const distDir = join(webDir, 'dist');
const inputs = [
  join(webDir, 'src'),
  join(webDir, 'index.html'),
  join(webDir, 'build.ts'),
  join(webDir, '..', 'lambdas', 'shared', 'web-config.ts'),
  join(webDir, '..', 'package-lock.json'),
];

function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newestMtime(join(path, entry))));
}

export function isStale(): boolean {
  const built = statSync(join(distDir, 'index.html'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return Math.max(...inputs.map(newestMtime)) > built;
}

export interface BuildReport {
  files: Array<{ file: string; bytes: number; gzip: number }>;
  initialGzip: number;
  totalGzip: number;
}

export async function buildWeb(): Promise<BuildReport> {
  rmSync(distDir, { recursive: true, force: true });
  mkdirSync(distDir, { recursive: true });
  const result = await build({
    entryPoints: { app: join(webDir, 'src', 'main.ts') },
    outdir: join(distDir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, o]) => o.entryPoint?.endsWith('main.ts'))!;
  const entryFile = relative(distDir, entry[0]).replaceAll('\\', '/');
  const cssFile = entry[1].cssBundle
    ? relative(distDir, entry[1].cssBundle).replaceAll('\\', '/')
    : undefined;
  const staticImports = entry[1].imports
    .filter((i) => i.kind === 'import-statement')
    .map((i) => relative(distDir, i.path).replaceAll('\\', '/'));
  const html = readFileSync(join(webDir, 'index.html'), 'utf8')
    .replace(
      '<!-- STYLES -->',
      [
        cssFile ? `<link rel="stylesheet" href="/${cssFile}" />` : '',
        ...staticImports.map((file) => `<link rel="modulepreload" href="/${file}" />`),
      ]
        .filter(Boolean)
        .join('\n    '),
    )
    .replace('<!-- SCRIPTS -->', `<script type="module" src="/${entryFile}"></script>`);
  writeFileSync(join(distDir, 'index.html'), html);

  const files = outputs
    .filter(([file]) => !file.endsWith('.map') && !file.endsWith('.txt'))
    .map(([file]) => {
      const bytes = readFileSync(file);
      return {
        file: relative(distDir, file),
        bytes: bytes.length,
        gzip: gzipSync(bytes, { level: 9 }).length,
      };
    });
  const initial = new Set([entryFile, cssFile, ...staticImports]);
  return {
    files,
    initialGzip: files.filter((f) => initial.has(f.file)).reduce((sum, f) => sum + f.gzip, 0),
    totalGzip: files.reduce((sum, f) => sum + f.gzip, 0),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && !isStale()) {
    console.log('web/dist is up to date');
  } else {
    const started = performance.now();
    const report = await buildWeb();
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    for (const f of report.files)
      console.log(`  ${f.file.padEnd(40)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzip)}`);
    console.log(
      `web/dist built in ${Math.round(performance.now() - started)} ms: first load ${kb(report.initialGzip)} gzip, all ${kb(report.totalGzip)} gzip`,
    );
  }
}
