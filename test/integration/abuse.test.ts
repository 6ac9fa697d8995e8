import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type AbuseRuntime,
  expectSecurityHeaders,
  fuzzTest,
  startAbuseRuntime,
  WEB_ORIGIN,
} from '#test/helpers/fuzz.ts';
import { RUNTIME_START_MS, type TestRuntime } from '#test/helpers/runtime.ts';
import { INJECTION_STRINGS } from '#test/helpers/zod-arbitrary.ts';

/**
 * Abuse tests against the whole local stack through its real gateway: a schema-driven fuzz run of 1,500
 * requests (fewer, but at least 500, when a loaded machine cannot answer them within its budget; the
 * full 10,000 run in the end-to-end suite, test/e2e/fuzz.test.ts) (0 server errors; every 4xx is
 * problem+json; security headers and a request id on every answer; pagination cursors of the API's own
 * shape with out-of-range contents among them), a generated run of racing upload operations on one
 * upload (0 server errors), oversized and deeply nested bodies, hostile strings stored and returned
 * verbatim, and CORS answering only configured origins.
 */
describe('abuse', () => {
  let abuse: AbuseRuntime;
  let runtime: TestRuntime;
  let credentials: AbuseRuntime['credentials'];

  beforeAll(async () => {
    abuse = await startAbuseRuntime();
    ({ runtime, credentials } = abuse);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await abuse?.close();
  }, 30_000);

  fuzzTest({ requests: 1_500, budgetMs: 40_000, minimum: 500 }, () => abuse);

  it('answers cursors of our own shape with out-of-range contents with 400, not 500', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const id = '00000000-0000-4000-8000-000000000000';
    for (const createdAt of [
      '-271821-04-20T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '0000-01-01T00:00:00Z',
    ]) {
      const cursor = b64(JSON.stringify([createdAt, id]));
      for (const query of [`cursor=${cursor}`, `owner=me&cursor=${cursor}`]) {
        const response = await fetch(`${runtime.url}/v1/videos?${query}`, { headers: credentials.creator });
        expect([query, response.status]).toEqual([query, 400]);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }
    }
    const audit = await fetch(`${runtime.url}/v1/audit?cursor=${b64('audit:9999999999999999999')}`, {
      headers: credentials.admin,
    });
    expect(audit.status).toBe(400);
    // Ones that are in range still page.
    const fine = b64(JSON.stringify([new Date().toISOString(), id]));
    expect((await fetch(`${runtime.url}/v1/videos?cursor=${fine}`)).status).toBe(200);
  });

  it('answers generated races of complete, abort, delete, sign, read and part uploads on one upload with 0 server errors', async () => {
    const token = await runtime.token('race-creator', ['creator']);
    const auth = { Authorization: `Bearer ${token}` };
    const json = { ...auth, 'Content-Type': 'application/json' };
    const operation = fc.constantFrom(
      'complete',
      'abort',
      'deleteVideo',
      'sign',
      'get',
      'putPart',
      'getVideo',
    );
    // Each scenario races a complete (of an upload whose part is in storage) against an abort or a
    // delete, launched in either order, with up to three more operations mixed in.
    const scenarios = fc.sample(
      fc
        .record({
          rival: fc.constantFrom('abort', 'deleteVideo'),
          completeFirst: fc.boolean(),
          extras: fc.array(operation, { maxLength: 3 }),
          size: fc.integer({ min: 1, max: 4000 }),
        })
        .map(({ rival, completeFirst, extras, size }) => ({
          ops: [...(completeFirst ? ['complete', rival] : [rival, 'complete']), ...extras],
          uploadFirst: true,
          size,
        })),
      { numRuns: 30, seed: 20261213 },
    );
    const failures: string[] = [];
    const statuses = new Map<string, Set<number>>();
    for (const scenario of scenarios) {
      const created = (await (
        await fetch(`${runtime.url}/v1/uploads`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            filename: 'r.mp4',
            contentType: 'video/mp4',
            size: scenario.size,
            title: 'race',
          }),
        })
      ).json()) as { uploadId: string; videoId: string };
      const signed = (await (
        await fetch(`${runtime.url}/v1/uploads/${created.uploadId}/parts`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ partNumbers: [1] }),
        })
      ).json()) as { parts: Array<{ url: string }> };
      const partUrl = signed.parts[0]!.url;
      const body = new Uint8Array(scenario.size);
      if (scenario.uploadFirst) await fetch(partUrl, { method: 'PUT', body });
      const send: Record<string, () => Promise<Response>> = {
        complete: () =>
          fetch(`${runtime.url}/v1/uploads/${created.uploadId}/complete`, {
            method: 'POST',
            headers: json,
            body: '{}',
          }),
        abort: () =>
          fetch(`${runtime.url}/v1/uploads/${created.uploadId}`, { method: 'DELETE', headers: auth }),
        deleteVideo: () =>
          fetch(`${runtime.url}/v1/videos/${created.videoId}`, { method: 'DELETE', headers: auth }),
        sign: () =>
          fetch(`${runtime.url}/v1/uploads/${created.uploadId}/parts`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ partNumbers: [1] }),
          }),
        get: () => fetch(`${runtime.url}/v1/uploads/${created.uploadId}`, { headers: auth }),
        getVideo: () => fetch(`${runtime.url}/v1/videos/${created.videoId}`, { headers: auth }),
        putPart: () => fetch(partUrl, { method: 'PUT', body }),
      };
      const answers = await Promise.all(scenario.ops.map(async (op) => [op, await send[op]!()] as const));
      for (const [op, response] of answers) {
        const text = await response.text();
        statuses.set(op, (statuses.get(op) ?? new Set()).add(response.status));
        if (response.status >= 500)
          failures.push(`${scenario.ops.join('+')}: ${op} -> ${response.status} ${text.slice(0, 200)}`);
        if (
          op !== 'putPart' &&
          response.status >= 400 &&
          response.headers.get('content-type') !== 'application/problem+json'
        )
          failures.push(`${op} -> ${response.status} without problem+json`);
      }
    }
    console.log(
      `races: ${scenarios.length} scenarios; statuses ${JSON.stringify(Object.fromEntries([...statuses].map(([op, set]) => [op, [...set].sort()])))}`,
    );
    expect(failures).toEqual([]);
  }, 120_000);

  it('refuses oversized bodies with 413 problem+json, at the handler (64 KiB) and at the gateway (10 MiB)', async () => {
    const token = credentials.creator!;
    for (const size of [64 * 1024 + 1, 11 * 1024 * 1024]) {
      const response = await fetch(`${runtime.url}/v1/uploads`, {
        method: 'POST',
        headers: { ...token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'x'.repeat(size) }),
      });
      expect(response.status).toBe(413);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expectSecurityHeaders(response, `413 at ${size}`);
    }
  });

  it('answers deeply nested JSON with 400, not a crash', async () => {
    for (const depth of [1000, 10_000, 30_000]) {
      const started = performance.now();
      for (const body of [
        `${'['.repeat(depth)}${']'.repeat(depth)}`,
        `{"title":${'{"a":'.repeat(depth / 10)}1${'}'.repeat(depth / 10)}}`,
        `{"filename":"a.mp4","contentType":"video/mp4","size":1,"title":"t","description":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      ]) {
        const response = await fetch(`${runtime.url}/v1/uploads`, {
          method: 'POST',
          headers: { ...credentials.creator, 'Content-Type': 'application/json' },
          body,
        });
        expect([400, 413]).toContain(response.status);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }
      console.log(`depth ${depth}: ${Math.round(performance.now() - started)} ms`);
    }
  }, 60_000);

  it('stores and returns hostile strings verbatim in every text field and query', async () => {
    const verbatim = INJECTION_STRINGS.filter(
      (s) =>
        !s.includes('\u0000') && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')),
    );
    for (const text of verbatim) {
      const created = await runtime.api('/v1/uploads', {
        method: 'POST',
        headers: credentials.creator,
        json: { filename: text, contentType: 'video/mp4', size: 1000, title: text, description: text },
      });
      expect(created.status).toBe(201);
      const { videoId } = (await created.json()) as { videoId: string };
      const got = (await (
        await runtime.api(`/v1/videos/${videoId}`, { headers: credentials.creator })
      ).json()) as {
        title: string;
        description: string;
      };
      expect(got.title).toBe(text.trim());
      expect(got.description).toBe(text);
      const patched = await runtime.api(`/v1/videos/${videoId}`, {
        method: 'PATCH',
        headers: credentials.creator,
        json: { title: `${text}!`, description: `!${text}` },
      });
      expect(await patched.json()).toMatchObject({ title: `${text}!`.trim(), description: `!${text}` });
      for (const query of [`q=${encodeURIComponent(text)}`, `owner=me&q=${encodeURIComponent(text)}`]) {
        const listed = await runtime.api(`/v1/videos?${query}`, { headers: credentials.creator });
        expect(listed.status).toBe(200);
      }
    }
    // The tables the injections name are all still there.
    expect((await runtime.api('/v1/videos?owner=me', { headers: credentials.creator })).status).toBe(200);
    expect((await runtime.api('/v1/audit', { headers: credentials.admin })).status).toBe(200);
  });

  it('refuses NUL characters (which Postgres text cannot hold) with 400, never 500', async () => {
    const response = await runtime.api('/v1/uploads', {
      method: 'POST',
      headers: credentials.creator,
      json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'a\u0000b' },
    });
    expect(response.status).toBe(400);
    expect((await runtime.api('/v1/videos?q=a%00b')).status).toBe(400);
  });

  it('answers CORS only for configured origins', async () => {
    const allowed = await fetch(`${runtime.url}/v1/videos`, { headers: { Origin: WEB_ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    for (const origin of [
      'http://evil.example',
      'null',
      `${WEB_ORIGIN}.evil.example`,
      'http://web.example.test:81',
    ]) {
      const response = await fetch(`${runtime.url}/v1/videos`, { headers: { Origin: origin } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await fetch(`${runtime.url}/v1/uploads`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    }
    const preflight = await fetch(`${runtime.url}/v1/uploads`, {
      method: 'OPTIONS',
      headers: { Origin: WEB_ORIGIN, 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(WEB_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Api-Key/);
  });

  it('puts security headers on unrouted, wrong-method and error answers too', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nope'],
      ['PUT', '/v1/videos'],
      ['GET', '/v1/health'],
      ['GET', '/v1/openapi.json'],
      ['GET', '/v1/me'],
    ] as const) {
      const response = await fetch(`${runtime.url}${path}`, { method });
      expectSecurityHeaders(response, `${method} ${path}`);
    }
  });
});
