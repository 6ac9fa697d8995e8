import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { routeList } from '#api/routes.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';
import { asWireStrings, fuzzArbitrary, INJECTION_STRINGS } from '#test/helpers/zod-arbitrary.ts';

/**
 * Abuse tests against the whole local stack through its real gateway: a schema-driven fuzz run of
 * 10,000 requests (fewer, but at least 2,000, when a loaded machine cannot answer them within its budget) (0 server errors; every 4xx is problem+json; security headers and a request id
 * on every answer; pagination cursors of the API's own shape with out-of-range contents among them), a
 * generated run of racing upload operations on one upload (0 server errors), oversized and deeply
 * nested bodies, hostile strings stored and returned verbatim, and CORS answering only configured
 * origins.
 */
const FUZZ_REQUESTS = 10_000;
/**
 * The run stops sending at this deadline, well inside the test's own, so it never outlives the runtime
 * (a loaded machine gets fewer requests through, never a timeout and "Database is closed" 500s after).
 */
const FUZZ_BUDGET_MS = 100_000;
/** Below this many answered requests the run proves too little: the machine is too slow to say. */
const FUZZ_MINIMUM = 2_000;
const CONCURRENCY = 24;
const WEB_ORIGIN = 'http://web.example.test'; // configured by the test runtime helper

/** Lone surrogates replaced (encodeURIComponent throws on them; a browser would send U+FFFD). */
const wellFormed = (value: string) =>
  value.replaceAll(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

interface Shot {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function expectSecurityHeaders(response: Response, what: string) {
  const missing = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['strict-transport-security', undefined],
    ['content-security-policy', undefined],
    ['referrer-policy', undefined],
    ['x-request-id', undefined],
  ].filter(([name, value]) => {
    const actual = response.headers.get(name!);
    return actual === null || (value !== undefined && actual !== value);
  });
  if (missing.length) throw new Error(`${what}: missing/wrong headers ${missing.map(([n]) => n).join(', ')}`);
}

describe('abuse', () => {
  let runtime: TestRuntime;
  let credentials: Record<string, Record<string, string>>;
  let videoIds: string[];
  const saved = { ...process.env };
  /** Aborted when the suite ends: no request goes out to a runtime that is closing. */
  const stopSending = new AbortController();

  beforeAll(async () => {
    // Buckets large enough that the fuzz run reaches the handlers (the limiter still runs on every call).
    Object.assign(process.env, { READ_BURST: '100000', WRITE_BURST: '100000', UPLOAD_BURST: '100000' });
    runtime = await startTestRuntime();
    const creator = await runtime.token('fuzz-creator', ['creator']);
    const key = (await (
      await runtime.api('/v1/api-keys', {
        method: 'POST',
        token: creator,
        json: { name: 'fuzz', scopes: ['videos:read', 'uploads:write'] },
      })
    ).json()) as { key: string };
    credentials = {
      anonymous: {},
      creator: { Authorization: `Bearer ${creator}` },
      admin: { Authorization: `Bearer ${await runtime.token('fuzz-admin', ['admin'])}` },
      viewer: { Authorization: `Bearer ${await runtime.token('fuzz-viewer', ['viewer'])}` },
      scoped: { Authorization: `Bearer ${await runtime.token('fuzz-creator', ['creator'], 'videos:read')}` },
      apiKey: { 'X-Api-Key': key.key },
      badBearer: { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      garbageAuth: { Authorization: "Basic ' OR 1=1 --" },
      badKey: { 'X-Api-Key': "vck_' OR 1=1 --" },
    };
    videoIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        seedVideo({
          ownerId: i % 2 ? 'fuzz-creator' : 'someone-else',
          visibility: (['public', 'unlisted', 'private'] as const)[i % 3],
        }),
      ),
    );
  }, RUNTIME_START_MS);
  afterAll(async () => {
    stopSending.abort();
    await runtime.close();
    process.env = saved;
  }, 30_000);

  const shotArbitrary = () =>
    fc
      .record({
        route: fc.constantFrom(...routeList),
        who: fc.constantFrom(...Object.keys(credentials)),
        knownId: fc.constantFrom(...videoIds),
        useKnownId: fc.boolean(),
        params: fc.jsonValue(),
        seed: fc.integer(),
        contentType: fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/merge-patch+json',
        ),
        rawBody: fc.option(fc.string({ unit: 'binary', maxLength: 200 }), { freq: 8 }),
      })
      .chain((base) =>
        fc
          .record({
            params: base.route.request?.params ? fuzzArbitrary(base.route.request.params) : fc.constant({}),
            query: base.route.request?.query ? fuzzArbitrary(base.route.request.query) : fc.constant({}),
            body: base.route.request?.body ? fuzzArbitrary(base.route.request.body) : fc.constant(undefined),
          })
          .map((parts): Shot => {
            const params = asWireStrings(parts.params);
            const path = base.route.path.replaceAll(/\{(\w+)\}/g, (_, name: string) =>
              encodeURIComponent(
                wellFormed(base.useKnownId && name === 'videoId' ? base.knownId : (params[name] ?? 'x')),
              ),
            );
            const query = new URLSearchParams(asWireStrings(parts.query)).toString();
            const hasBody = base.route.method !== 'GET' && base.route.method !== 'DELETE';
            const body =
              base.rawBody !== null
                ? base.rawBody
                : hasBody && parts.body !== undefined
                  ? JSON.stringify(parts.body)
                  : undefined;
            return {
              method: base.route.method,
              path: `${path}${query ? `?${query}` : ''}`,
              headers: {
                ...credentials[base.who],
                ...(body !== undefined ? { 'Content-Type': base.contentType } : {}),
              },
              ...(body !== undefined && hasBody ? { body } : {}),
            };
          }),
      );

  it(
    `answers ${FUZZ_REQUESTS} schema-driven requests with 0 server errors, problem+json for every 4xx, and security headers`,
    async () => {
      const shots = fc.sample(shotArbitrary(), { numRuns: FUZZ_REQUESTS, seed: 20261124 });
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let degradedHealth = 0;
      const started = performance.now();
      const budget = AbortSignal.any([stopSending.signal, AbortSignal.timeout(FUZZ_BUDGET_MS)]);
      let next = 0;
      const worker = async () => {
        while (next < shots.length && !budget.aborted) {
          const shot = shots[next++]!;
          const response = await fetch(`${runtime.url}${shot.path}`, {
            method: shot.method,
            headers: shot.headers,
            ...(shot.body !== undefined ? { body: shot.body } : {}),
          });
          const text = await response.text();
          const what = `${shot.method} ${shot.path} -> ${response.status}`;
          // Health saying a dependency was too slow to answer within its 3 s probe (this suite loads the
          // machine) is the documented 503 health report, not a server error; it must still be that report.
          if (shot.path.split('?')[0] === '/v1/health' && response.status === 503) {
            if ((JSON.parse(text) as { status?: unknown }).status !== 'degraded')
              failures.push(`${what}: not a health report`);
            degradedHealth += 1;
            continue;
          }
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status >= 500) failures.push(`${what}: ${text.slice(0, 200)}`);
          if (response.status >= 400) {
            if (response.headers.get('content-type') !== 'application/problem+json')
              failures.push(`${what}: content-type ${response.headers.get('content-type')}`);
            const problem = JSON.parse(text) as Record<string, unknown>;
            if (
              problem.status !== response.status ||
              typeof problem.title !== 'string' ||
              typeof problem.detail !== 'string'
            )
              failures.push(`${what}: not a problem document`);
            if (/at \w+ \(|node_modules|\.ts:\d+/.test(text)) failures.push(`${what}: leaks a stack trace`);
          }
          try {
            expectSecurityHeaders(response, what);
          } catch (error) {
            failures.push((error as Error).message);
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (performance.now() - started) / 1000;
      const total = [...statuses.values()].reduce((a, b) => a + b, 0) + degradedHealth;
      console.log(
        `fuzz: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s); statuses ${JSON.stringify(Object.fromEntries(statuses))}; degraded health ${degradedHealth}`,
      );
      expect(failures.slice(0, 20)).toEqual([]);
      expect(total).toBeGreaterThanOrEqual(budget.aborted ? FUZZ_MINIMUM : FUZZ_REQUESTS);
      expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
      // The run reached the handlers, not only the validators.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(total / 20);
    },
    FUZZ_BUDGET_MS + 30_000,
  );

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
