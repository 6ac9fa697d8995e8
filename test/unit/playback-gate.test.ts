/**
 * The playback gate (lambdas/edge/playback-gate.js), run as the local /cdn/ runs it: its own source in a
 * CloudFront-Functions-like context, tokens minted by the API's code. Covers what it lets through, what it
 * refuses (expiry, another video, revocation, every path trick), and that the source stays inside what
 * CloudFront's cloudfront-js-2.0 runtime accepts: its documented syntax subset, and 10 KB.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import ts from 'typescript';
import { playbackToken } from '#core/playback-token.ts';
import { PLAYBACK_GATE_MAX_BYTES, playbackGateSource } from '#edge/playback-gate.ts';
import {
  type CfRequest,
  type CfResponse,
  isResponse,
  loadViewerRequestFunction,
} from '#local/cloudfront-function.ts';

const key = { kid: 'k1', secret: 'a-test-secret-of-at-least-thirty-two-characters' };
const videoA = randomUUID();
const videoB = randomUUID();
const store = new Map<string, string>([[`key:${key.kid}`, key.secret]]);
const gate = loadViewerRequestFunction(playbackGateSource({ embedOrigins: ['*'] }), {
  get: (name) => store.get(name),
});

const now = () => Math.floor(Date.now() / 1000);
const token = (videoId: string, epoch = 0, expiresAt = 0) =>
  playbackToken(key, { videoId, epoch, expiresAt });

async function request(uri: string, extra: Partial<CfRequest> = {}): Promise<CfRequest | CfResponse> {
  return gate({
    version: '1.0',
    context: { eventType: 'viewer-request', requestId: 'test' },
    viewer: { ip: '127.0.0.1' },
    request: { method: 'GET', uri, querystring: {}, headers: {}, cookies: {}, ...extra },
  });
}

async function allowed(uri: string): Promise<string> {
  const result = await request(uri);
  if (isResponse(result))
    throw new Error(`refused ${uri}: ${result.statusCode} ${JSON.stringify(result.body)}`);
  return result.uri;
}

async function refused(uri: string): Promise<{ status: number; message: string }> {
  const result = await request(uri);
  if (!isResponse(result)) throw new Error(`let through ${uri} as ${result.uri}`);
  const body = result.body;
  return { status: result.statusCode, message: typeof body === 'string' ? body : (body?.data ?? '') };
}

describe('what the gate lets through', () => {
  test('a public token opens every file of its video and is stripped from the path', async () => {
    const t = token(videoA);
    expect(await allowed(`/t/${t}/videos/${videoA}/master.m3u8`)).toBe(`/videos/${videoA}/master.m3u8`);
    expect(await allowed(`/t/${t}/videos/${videoA}/720p/seg_00001.m4s`)).toBe(
      `/videos/${videoA}/720p/seg_00001.m4s`,
    );
    expect(await allowed(`/t/${t}/videos/${videoA}/poster.jpg`)).toBe(`/videos/${videoA}/poster.jpg`);
  });

  test('dot segments that stay inside the video are resolved, not refused', async () => {
    const t = token(videoA);
    expect(await allowed(`/t/${t}/videos/${videoA}/720p/../master.m3u8`)).toBe(
      `/videos/${videoA}/master.m3u8`,
    );
  });

  test('the query string never reaches the origin (the cache key is the object path)', async () => {
    const result = await request(`/t/${token(videoA)}/videos/${videoA}/master.m3u8`, {
      querystring: { x: { value: '1' } },
    });
    expect(isResponse(result)).toBe(false);
    expect((result as CfRequest).querystring).toEqual({});
  });

  test('a private token works until it expires, then says so', async () => {
    expect(await allowed(`/t/${token(videoA, 0, now() + 60)}/videos/${videoA}/master.m3u8`)).toContain(
      videoA,
    );
    const expired = await refused(`/t/${token(videoA, 0, now() - 1)}/videos/${videoA}/master.m3u8`);
    expect(expired).toEqual({ status: 403, message: expect.stringMatching(/expired/) });
  });
});

describe('what the gate refuses', () => {
  test('no token, a malformed token, a tampered expiry, an unknown key', async () => {
    expect((await refused(`/videos/${videoA}/master.m3u8`)).status).toBe(403);
    expect((await refused(`/t/garbage/videos/${videoA}/master.m3u8`)).status).toBe(403);
    const [kid, epoch, , sig] = token(videoA, 0, now() + 60).split('.');
    expect((await refused(`/t/${kid}.${epoch}.0.${sig}/videos/${videoA}/master.m3u8`)).status).toBe(403);
    const other = playbackToken(
      { kid: 'k2', secret: key.secret },
      { videoId: videoA, epoch: 0, expiresAt: 0 },
    );
    expect(await refused(`/t/${other}/videos/${videoA}/master.m3u8`)).toEqual({
      status: 403,
      message: expect.stringMatching(/unknown key/),
    });
  });

  test("a token for video A never opens video B's files", async () => {
    expect((await refused(`/t/${token(videoA)}/videos/${videoB}/master.m3u8`)).status).toBe(403);
  });

  test.each([
    ['an encoded ../ into another video', `..%2F${videoB}%2Fmaster.m3u8`],
    ['an encoded ../ with encoded dots', `%2e%2e%2F${videoB}%2Fmaster.m3u8`],
    ['plain ../ into another video', `../${videoB}/master.m3u8`],
    ['up and out of videos/ to a source', `../../uploads/${videoB}/source`],
    ['up and out of the bucket', `..%2F..%2F..%2Fvideocloud-uploads%2Fuploads%2F${videoB}%2Fsource`],
    ['double encoding', `%252e%252e%252F${videoB}%252Fmaster.m3u8`],
    ['a backslash', `..%5C${videoB}%5Cmaster.m3u8`],
    ['an empty segment', `/master.m3u8`],
    ['a NUL', `master.m3u8%00.jpg`],
    ['a malformed escape', `master%zz.m3u8`],
    ['a hidden file', `.env`],
  ])('%s is refused', async (_name, rest) => {
    const { status } = await refused(`/t/${token(videoA)}/videos/${videoA}/${rest}`);
    expect([400, 403]).toContain(status);
  });

  test('a revoked video refuses tokens older than its revocation epoch, and takes newer ones', async () => {
    const video = randomUUID();
    const before = token(video, 100);
    expect(await allowed(`/t/${before}/videos/${video}/master.m3u8`)).toContain(video);
    store.set(`rev:${video}`, '101');
    expect(await refused(`/t/${before}/videos/${video}/master.m3u8`)).toEqual({
      status: 403,
      message: expect.stringMatching(/revoked/),
    });
    expect(await allowed(`/t/${token(video, 101)}/videos/${video}/master.m3u8`)).toContain(video);
  });

  test('a revocation the store cannot read counts as one (fail closed, 503)', async () => {
    const video = randomUUID();
    const flaky = loadViewerRequestFunction(playbackGateSource({ embedOrigins: ['*'] }), {
      get: (name) => {
        if (name === `rev:${video}`) throw new Error('KeyValueStore read failed');
        return store.get(name);
      },
      exists: (name) => name === `rev:${video}` || store.has(name),
    });
    const result = (await flaky({
      version: '1.0',
      context: { eventType: 'viewer-request', requestId: 'test' },
      viewer: { ip: '127.0.0.1' },
      request: {
        method: 'GET',
        uri: `/t/${token(video)}/videos/${video}/master.m3u8`,
        querystring: {},
        headers: {},
        cookies: {},
      },
    })) as CfResponse;
    expect(result.statusCode).toBe(503);
  });

  test('refusals answer CORS, so a player on another origin sees the 403 and its reason', async () => {
    const result = (await request(`/videos/${videoA}/master.m3u8`, {
      headers: { origin: { value: 'https://embed.example' } },
    })) as CfResponse;
    expect(result.headers?.['access-control-allow-origin']).toEqual({ value: '*' });
    expect(result.headers?.['cache-control']).toEqual({ value: 'no-store' });
  });

  test('with configured embed origins, only those are answered', async () => {
    const strict = loadViewerRequestFunction(playbackGateSource({ embedOrigins: ['https://a.example'] }), {
      get: (name) => store.get(name),
    });
    const preflight = (origin: string) =>
      strict({
        version: '1.0',
        context: { eventType: 'viewer-request', requestId: 'test' },
        viewer: { ip: '127.0.0.1' },
        request: {
          method: 'OPTIONS',
          uri: `/t/x/videos/${videoA}/master.m3u8`,
          querystring: {},
          headers: { origin: { value: origin } },
          cookies: {},
        },
      }) as Promise<CfResponse>;
    expect((await preflight('https://a.example')).headers?.['access-control-allow-origin']).toEqual({
      value: 'https://a.example',
    });
    expect((await preflight('https://b.example')).headers?.['access-control-allow-origin']).toBeUndefined();
  });
});

describe('the source fits what CloudFront Functions runs', () => {
  const source = playbackGateSource({ embedOrigins: ['https://a.example', 'https://b.example'] });

  test(`it is under ${PLAYBACK_GATE_MAX_BYTES} bytes with settings filled in`, () => {
    expect(Buffer.byteLength(source)).toBeLessThan(PLAYBACK_GATE_MAX_BYTES);
  });

  test('it uses only the syntax cloudfront-js-2.0 documents, and imports only crypto and cloudfront', () => {
    const file = ts.createSourceFile('gate.js', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    const refused: string[] = [];
    const visit = (node: ts.Node, insideFunction: boolean) => {
      const kind = ts.SyntaxKind[node.kind];
      if (
        ts.isForOfStatement(node) ||
        ts.isClassDeclaration(node) ||
        ts.isClassExpression(node) ||
        ts.isSpreadElement(node) ||
        ts.isSpreadAssignment(node) ||
        ts.isObjectBindingPattern(node) ||
        ts.isArrayBindingPattern(node) ||
        ts.isExportAssignment(node) ||
        ts.isExportDeclaration(node) ||
        (ts.isPropertyAccessExpression(node) && node.questionDotToken) ||
        (ts.isCallExpression(node) && node.questionDotToken) ||
        (ts.isBinaryExpression(node) &&
          [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.QuestionQuestionEqualsToken].includes(
            node.operatorToken.kind,
          )) ||
        ts.isYieldExpression(node) ||
        node.kind === ts.SyntaxKind.BigIntLiteral
      ) {
        refused.push(`${kind} at ${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
      }
      // "async arguments and closures are not supported": async only on top-level function declarations.
      const isAsync =
        ts.canHaveModifiers(node) &&
        ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
      if (isAsync && (insideFunction || !ts.isFunctionDeclaration(node)))
        refused.push(`nested async ${kind}`);
      if (ts.isImportDeclaration(node)) {
        const from = (node.moduleSpecifier as ts.StringLiteral).text;
        if (!['crypto', 'cloudfront'].includes(from)) refused.push(`import of ${from}`);
      }
      const inner = insideFunction || ts.isFunctionLike(node);
      ts.forEachChild(node, (child) => visit(child, inner));
    };
    visit(file, false);
    expect(refused).toEqual([]);
    const { diagnostics } = ts.transpileModule(source, { reportDiagnostics: true, fileName: 'gate.js' });
    expect((diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  test('the settings line is what the loader fills in', () => {
    expect(readFileSync(new URL('../../lambdas/edge/playback-gate.js', import.meta.url), 'utf8')).toContain(
      "const SETTINGS = { embedOrigins: ['*'] };",
    );
    expect(source).toContain('"embedOrigins":["https://a.example","https://b.example"]');
  });
});
