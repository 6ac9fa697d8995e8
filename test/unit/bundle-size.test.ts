/**
 * Function bundles stay small: every API function of the route table, built with the very esbuild
 * settings of lib/constructs/app-function.ts (lib/constructs/bundling.ts) in one build. Every one fits
 * the API budget of 250 KB minified (issue 14) and carries no Kysely: the repositories run plain SQL
 * (lambdas/adapters/db/sql.ts); the query builder was 160 KB of each. The public functions (docs,
 * openapi) carry no database driver, AWS SDK or JWT verifier either. No function carries an AWS SDK
 * client (DynamoDB, SQS, Secrets Manager, S3 and the RDS token are signed requests:
 * lambdas/adapters/aws-json.ts, s3-rest.ts, sigv4.ts). Every function's zod is zod/mini with English only
 * (lambdas/shared/zod.ts; the openapi function serves a document written at bundling time). And each
 * function keeps only its own route's rows and schemas (lambdas/api/schemas.ts declares the schemas
 * side-effect free): building the whole table's took about 27 ms of every function's import. Of its own
 * it builds the request's schemas only: rows name their answers' schemas (`responseSchemas`), which no
 * function validates.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { build, type Metafile } from 'esbuild';
import { globalRegistry } from 'zod/mini';
import type { RouteSpec } from '../../lambdas/api/route-spec.ts';
import { routeList } from '../../lambdas/api/routes.ts';
import { responseSchemas } from '../../lambdas/api/schemas.ts';
import { API_BUNDLE_BUDGET_BYTES, esbuildOptions } from '../../lib/constructs/bundling.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'videocloud-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const PUBLIC_ENTRIES = ['docs', 'openapi'];
const HEAVY = ['pg', 'kysely', '@aws-sdk/client-dynamodb', '@smithy/core', 'aws-jwt-verify'];

interface Bundle {
  bytes: number;
  packages: Set<string>;
  files: string[];
  text: string;
}

const entries = [...new Set(routeList.map((route) => route.entry))].sort();
const bundles = new Map<string, Bundle>();

beforeAll(async () => {
  const result = await build({
    ...esbuildOptions('', ''),
    entryPoints: Object.fromEntries(
      entries.map((entry) => [entry, join(root, 'lambdas/api', `${entry}.ts`)]),
    ),
    outfile: undefined,
    outdir: out,
    absWorkingDir: root,
    metafile: true,
    logLevel: 'error',
  });
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    const entry = /lambdas\/api\/(.+)\.ts$/.exec(output.entryPoint)![1]!;
    bundles.set(entry, {
      bytes: output.bytes,
      packages: packagesOf(output.inputs),
      files: Object.keys(output.inputs),
      text: readFileSync(join(root, file), 'utf8'),
    });
  }
}, 60_000);

function packagesOf(inputs: Metafile['outputs'][string]['inputs']): Set<string> {
  const names = new Set<string>();
  for (const file of Object.keys(inputs)) {
    const match = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file);
    if (match) names.add(match[1]!);
  }
  return names;
}

/** The component ids (`z.meta({ id })`) of every schema a route's request and responses reach. */
function componentIds(route: RouteSpec): Set<string> {
  const ids = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if ('_zod' in value) {
      const id = globalRegistry.get(value as never)?.id;
      if (typeof id === 'string') ids.add(id);
      visit((value as { _zod: { def: unknown } })._zod.def);
      return;
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(route.request);
  for (const response of Object.values(route.responses))
    if (response.schema) visit(responseSchemas[response.schema]);
  return ids;
}

const bundleOf = (entry: string) => bundles.get(entry)!;
/** The `z.meta({ id })` ids in a minified bundle. */
const schemaIdsIn = (text: string) => [...text.matchAll(/\bid:"([A-Za-z]+)"/g)].map((match) => match[1]!);

describe('function bundles', () => {
  test('every API function of the route table was built', () => {
    expect([...bundles.keys()].sort()).toEqual(entries);
  });

  test.each(entries)('%s fits the 250 KB API budget and carries no query builder', (entry) => {
    const { bytes, packages } = bundleOf(entry);
    expect(bytes).toBeLessThanOrEqual(API_BUNDLE_BUDGET_BYTES);
    expect(packages).not.toContain('kysely');
  });

  test.each(PUBLIC_ENTRIES)('%s carries no database, AWS SDK or JWT code', (entry) => {
    for (const name of HEAVY) expect(bundleOf(entry).packages).not.toContain(name);
  });

  test('functions that reach Postgres carry pg', () => {
    for (const entry of ['health', 'videos-get']) expect(bundleOf(entry).packages).toContain('pg');
  });

  test.each(entries)('%s carries no AWS SDK client', (entry) => {
    expect([...bundleOf(entry).packages].filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
  });

  test('authenticated functions carry the JWT verifier', () => {
    expect(bundleOf('videos-get').packages).toContain('aws-jwt-verify');
  });

  test.each(entries)('%s has zod/mini with English only', (entry) => {
    const { files } = bundleOf(entry);
    // English messages only: the named `z` export, or `z.locales.en()`, would pull every other locale in.
    expect(files.filter((file) => /zod\/.*locales\/(?!en\.)/.test(file))).toEqual([]);
    expect(files.filter((file) => file.includes('node_modules/zod/v4/locales/en.'))).toHaveLength(1);
    // zod/mini only: classic zod is about 60 KB more (biome.json keeps it off the request path).
    expect(files.filter((file) => /node_modules\/zod\/v4\/classic\//.test(file))).toEqual([]);
  });

  /** What of other routes a bundle holds: their rows (each summary is unique) and their named schemas. */
  function foreignParts(entry: string, text: string) {
    const own = routeList.filter((route) => route.entry === entry);
    const ownIds = new Set(own.flatMap((route) => [...componentIds(route)]));
    const rows = routeList.filter((route) => route.entry !== entry && text.includes(route.summary));
    const schemas = [...new Set(schemaIdsIn(text))].filter((id) => allIds.has(id) && !ownIds.has(id));
    return { rows: rows.map((route) => route.id), schemas };
  }
  const allIds = new Set(routeList.flatMap((route) => [...componentIds(route)]));

  test.each(entries)("%s keeps only its own route's rows and schemas", (entry) => {
    expect(foreignParts(entry, bundleOf(entry).text)).toEqual({ rows: [], schemas: [] });
  });

  /** Named schemas only answers reach: the OpenAPI document's and the tests', never a function's. */
  const requestIds = new Set(
    routeList.flatMap((route) => [...componentIds({ ...route, responses: {} } as RouteSpec)]),
  );
  const answerOnlyIds = [...allIds].filter((id) => !requestIds.has(id));

  test.each(entries)('%s builds no schema of an answer (no function validates what it answers)', (entry) => {
    expect(answerOnlyIds.length).toBeGreaterThanOrEqual(15);
    expect(schemaIdsIn(bundleOf(entry).text).filter((id) => answerOnlyIds.includes(id))).toEqual([]);
  });

  /** `contents`, a module at the repository root, bundled with the functions' settings (not written). */
  async function bundleText(contents: string): Promise<string> {
    const built = await build({
      ...esbuildOptions('', join(out, 'probe', 'index.mjs')),
      entryPoints: undefined,
      stdin: { contents, resolveDir: root, loader: 'ts' },
      absWorkingDir: root,
      write: false,
      sourcemap: false,
      logLevel: 'error',
    });
    return built.outputFiles[0]!.text;
  }

  test('the checks above can fail: they see the schemas, and a handler that takes the whole table', async () => {
    expect(allIds.size).toBeGreaterThanOrEqual(30);
    const found = new Set(schemaIdsIn(bundleOf('webhooks-create').text));
    for (const id of ['CreateWebhookRequest', 'EventType']) expect(found).toContain(id);
    // A handler that imports the table object instead of its row keeps every row and schema.
    const whole = await bundleText(
      "import { routes } from './lambdas/api/routes.ts'; export const row = routes.getVideo;",
    );
    const parts = foreignParts('videos-get', whole);
    expect(parts.rows.length).toBeGreaterThan(20);
    expect(parts.schemas).toEqual(expect.arrayContaining(['CreateWebhookRequest', 'CreateApiKeyRequest']));
    // And a row holding its answer's schema again, as rows did, is seen building it.
    const held = await bundleText(
      "import * as routes from './lambdas/api/routes.ts'; import { Video } from './lambdas/api/schemas.ts';" +
        'export const row = { ...routes.getVideo, answer: Video };',
    );
    expect(schemaIdsIn(held).filter((id) => answerOnlyIds.includes(id))).toContain('Video');
  });
});
