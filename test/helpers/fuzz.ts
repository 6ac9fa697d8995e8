import { expect, it } from '@jest/globals';
import fc from 'fast-check';
import { routeList } from '#api/routes.ts';
import { startTestRuntime, type TestRuntime } from './runtime.ts';
import { seedVideo } from './seed.ts';
import { asWireStrings, fuzzArbitrary } from './zod-arbitrary.ts';

/**
 * The schema-driven fuzz run against the whole local stack through its real gateway (0 server errors;
 * every 4xx is problem+json; security headers and a request id on every answer), and the runtime it and
 * the other abuse tests run against. `npm test` sends a sample (test/integration/abuse.test.ts), the
 * end-to-end suite the full 10,000 requests of the same sequence (test/e2e/fuzz.test.ts).
 */
export interface FuzzSize {
  requests: number;
  /**
   * The run stops sending at this deadline, well inside the test's own, so it never outlives the runtime
   * (a loaded machine gets fewer requests through, never a timeout and "Database is closed" 500s after).
   */
  budgetMs: number;
  /** Below this many answered requests the run proves too little: the machine is too slow to say. */
  minimum: number;
}

const CONCURRENCY = 24;
/** Configured by the test runtime helper. */
export const WEB_ORIGIN = 'http://web.example.test';

export interface AbuseRuntime {
  runtime: TestRuntime;
  /** Request headers of each kind of caller, good and bad. */
  credentials: Record<string, Record<string, string>>;
  /** Seeded videos of every visibility, half of them fuzz-creator's. */
  videoIds: string[];
  /** Aborted when the suite ends: no request goes out to a runtime that is closing. */
  stopSending: AbortController;
  close(): Promise<void>;
}

/** The local runtime with rate-limit buckets large enough that the fuzz run reaches the handlers. */
export async function startAbuseRuntime(): Promise<AbuseRuntime> {
  const saved = { ...process.env };
  // The limiter still runs on every call.
  Object.assign(process.env, { READ_BURST: '100000', WRITE_BURST: '100000', UPLOAD_BURST: '100000' });
  const runtime = await startTestRuntime();
  const creator = await runtime.token('fuzz-creator', ['creator']);
  const key = (await (
    await runtime.api('/v1/api-keys', {
      method: 'POST',
      token: creator,
      json: { name: 'fuzz', scopes: ['videos:read', 'uploads:write'] },
    })
  ).json()) as { key: string };
  const credentials = {
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
  const videoIds = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      seedVideo({
        ownerId: i % 2 ? 'fuzz-creator' : 'someone-else',
        visibility: (['public', 'unlisted', 'private'] as const)[i % 3],
      }),
    ),
  );
  const stopSending = new AbortController();
  return {
    runtime,
    credentials,
    videoIds,
    stopSending,
    async close() {
      stopSending.abort();
      await runtime.close();
      process.env = saved;
    },
  };
}

/** Lone surrogates replaced (encodeURIComponent throws on them; a browser would send U+FFFD). */
const wellFormed = (value: string) =>
  value.replaceAll(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

interface Shot {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export function expectSecurityHeaders(response: Response, what: string) {
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

const shotArbitrary = ({ credentials, videoIds }: AbuseRuntime) =>
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

/**
 * The fuzz test, of `size.requests` requests (the first ones of one seeded sequence, whatever the size),
 * against the runtime `abuse()` returns once its suite's beforeAll has run.
 */
export function fuzzTest(size: FuzzSize, abuse: () => AbuseRuntime) {
  it(
    `answers ${size.requests} schema-driven requests with 0 server errors, problem+json for every 4xx, and security headers`,
    async () => {
      const { runtime, stopSending } = abuse();
      const shots = fc.sample(shotArbitrary(abuse()), { numRuns: size.requests, seed: 20261124 });
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let degradedHealth = 0;
      const started = performance.now();
      const budget = AbortSignal.any([stopSending.signal, AbortSignal.timeout(size.budgetMs)]);
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
      expect(total).toBeGreaterThanOrEqual(budget.aborted ? size.minimum : size.requests);
      expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
      // The run reached the handlers, not only the validators.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(total / 20);
    },
    size.budgetMs + 30_000,
  );
}
