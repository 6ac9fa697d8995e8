import { posix } from 'node:path';
import { bundledOpenApiDocument } from '../../lambdas/shared/resources.ts';

/**
 * How every function is bundled (lib/constructs/app-function.ts hands these to NodejsFunction, which
 * runs the local esbuild), in a module of its own so the bundle-size test (test/unit/bundle-size.test.ts)
 * builds with exactly the same settings without loading the CDK.
 */

/** esbuild's target for the Lambda runtime (LAMBDA_RUNTIME in app-function.ts). */
export const BUNDLE_TARGET = 'node24';

/**
 * esbuild emits ESM, where `require` does not exist; CommonJS dependencies that call it (the AWS SDK's
 * lazy loads, pg) get one from createRequire. The alias avoids clashing with anything in the bundle.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __videocloudCreateRequire } from 'node:module'; " +
  'const require = __videocloudCreateRequire(import.meta.url);';

/** Prefer packages' ESM builds: they tree-shake far better than their CommonJS ones. */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * The AWS SDK is bundled, not taken from the runtime, so the code runs the versions it was tested with.
 * PGlite (the local-only database) is loaded by a dynamic import that never runs here. The
 * ffmpeg/ffprobe npm static builds are the local fallback only (lambdas/adapters/ffmpeg/binaries.ts loads them by
 * a dynamic import that never runs in Lambda, where the layer's /opt/bin comes first).
 */
export const EXTERNAL_MODULES = [
  '@electric-sql/pglite',
  '@ffmpeg-installer/ffmpeg',
  '@ffprobe-installer/ffprobe',
];

/** The largest minified bundle an API function may have (issue 14; pinned by the bundle-size test). */
export const API_BUNDLE_BUDGET_BYTES = 250 * 1024;

/** The esbuild build options NodejsFunction derives from the settings above (for esbuild's JS API). */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: BUNDLE_TARGET,
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: EXTERNAL_MODULES,
  };
}

/** Files the handler reads at run time, put into its bundle beside index.mjs. */
export interface BundleFiles {
  /** Directory inside the bundle, e.g. `swagger-ui`. */
  readonly into: string;
  /** Repository-relative paths of the files to copy. */
  readonly files?: readonly string[];
  /**
   * Files written at bundling time: file name => repository script (run with tsx) that writes the file
   * to the path it is given.
   */
  readonly generated?: Readonly<Record<string, string>>;
}

/** The openapi function's: its document, written by the generator `npm run openapi:lint` uses. */
export const OPENAPI_BUNDLE_FILES: BundleFiles = {
  into: bundledOpenApiDocument.directory,
  generated: { [bundledOpenApiDocument.file]: 'bin/openapi.ts' },
};

/**
 * The shell commands that put `files` into a bundle (NodejsFunction's afterBundling hook runs them, from
 * the project root; test/unit/openapi-bundle.test.ts runs the same ones).
 */
export function bundleFileCommands(files: BundleFiles, inputDir: string, outputDir: string): string[] {
  const into = posix.join(outputDir, files.into);
  const tsx = posix.join(inputDir, 'node_modules/.bin/tsx');
  return [
    `mkdir -p "${into}"`,
    ...(files.files ?? []).map((file) => `cp "${posix.join(inputDir, file)}" "${into}/"`),
    ...Object.entries(files.generated ?? {}).map(
      ([name, script]) => `cd "${inputDir}" && "${tsx}" "${script}" "${posix.join(into, name)}"`,
    ),
  ];
}
