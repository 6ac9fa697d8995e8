/**
 * The deployed GET /v1/openapi.json: the openapi function built as the CDK builds it (the esbuild
 * settings of lib/constructs/bundling.ts, the document written beside it by bin/openapi.ts, as the
 * bundling hook of lib/stateless-stack.ts does), run in a fresh node process as Lambda would run it,
 * serves exactly the document the route table describes, without bundling zod-openapi or any schema.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { build, type Metafile } from 'esbuild';
import { buildOpenApiDocument } from '../../lambdas/api/openapi-document.ts';
import { bundledOpenApiDocument } from '../../lambdas/shared/resources.ts';
import { bundleFileCommands, esbuildOptions, OPENAPI_BUNDLE_FILES } from '../../lib/constructs/bundling.ts';
import { gatewayEvent } from '../helpers/gateway-event.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'videocloud-openapi-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
let inputs: Metafile['outputs'][string]['inputs'] = {};

beforeAll(async () => {
  const result = await build({
    ...esbuildOptions(join(root, 'lambdas/api/openapi.ts'), join(out, 'index.mjs')),
    absWorkingDir: root,
    metafile: true,
    logLevel: 'error',
  });
  inputs = Object.values(result.metafile.outputs).find((output) => output.entryPoint)!.inputs;
  // The very commands the CDK's bundling hook runs (lib/constructs/app-function.ts), from the project root.
  execFileSync('bash', ['-c', bundleFileCommands(OPENAPI_BUNDLE_FILES, root, out).join(' && ')], {
    cwd: root,
    stdio: 'pipe',
    timeout: 90_000,
  });
}, 120_000);

/** Imports the bundle in a fresh node and answers one GET /v1/openapi.json, as Lambda would. */
function invoke(): { statusCode: number; headers: Record<string, string>; body: string; logs: string } {
  const event = gatewayEvent('/v1/openapi.json', 'req-openapi');
  const context =
    "{ awsRequestId: 'req-openapi', functionName: 'openapi', getRemainingTimeInMillis: () => 10000 }";
  const script =
    `const { handler } = await import(${JSON.stringify(join(out, 'index.mjs'))});` +
    `const result = await handler(${JSON.stringify(event)}, ${context});` +
    'process.stdout.write(JSON.stringify(result));';
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      UPLOADS_BUCKET: 'videocloud-uploads-test',
      MEDIA_BUCKET: 'videocloud-media-test',
      STATE_TABLE: 'videocloud-state-test',
      COGNITO_USER_POOL_ID: 'eu-west-1_test',
      COGNITO_CLIENT_ID: 'test',
      VIDEOCLOUD_VERSION: version,
      LOG_LEVEL: 'ERROR',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (run.status !== 0) throw new Error(`the bundle failed to run:\n${run.stderr}`);
  // The logger writes its JSON lines to stdout and, for errors, stderr; the answer is stdout's last line.
  const lines = run.stdout.trimEnd().split('\n');
  return { ...JSON.parse(lines.pop()!), logs: [...lines, run.stderr].join('\n') };
}

describe('the bundled openapi function', () => {
  test('serves the route table’s document, byte for byte what building it gives', () => {
    const result = invoke();
    expect(result.statusCode).toBe(200);
    expect(result.headers['Content-Type']).toBe('application/json');
    expect(result.body).toBe(JSON.stringify(buildOpenApiDocument(version)));
  });

  test('without its document, answers a plain 500 (the log names the missing file)', () => {
    const file = join(out, bundledOpenApiDocument.directory, bundledOpenApiDocument.file);
    renameSync(file, `${file}.away`);
    try {
      const result = invoke();
      expect(result.statusCode).toBe(500);
      expect(result.body).not.toContain('openapi.json');
      expect(result.logs).toContain('the bundled OpenAPI document openapi/openapi.json cannot be read');
    } finally {
      renameSync(`${file}.away`, file);
    }
  });

  test('bundles neither zod-openapi, classic zod nor the document builder', () => {
    const files = Object.keys(inputs);
    expect(files.filter((file) => file.includes('node_modules/zod-openapi/'))).toEqual([]);
    expect(files.filter((file) => /node_modules\/zod\/v4\/classic\//.test(file))).toEqual([]);
    expect(files).not.toContain('lambdas/api/openapi-document.ts');
  });
});
