import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';

describe('the local runtime, end to end through the gateway', () => {
  let runtime: TestRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
  }, 60_000);

  it('answers health ok after checking the database and storage for real', async () => {
    const response = await runtime.api('/v1/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      version: expect.any(String),
      checks: { database: 'ok', storage: 'ok' },
    });
  });

  it('echoes a well-formed X-Request-Id and mints one otherwise', async () => {
    const echoed = await runtime.api('/v1/health', { headers: { 'X-Request-Id': 'client-abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('client-abc-123');
    const minted = await runtime.api('/v1/health', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers and no-store on API responses', async () => {
    const response = await runtime.api('/v1/health');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an unknown route with a 404 problem and a wrong method with 405', async () => {
    const missing = await runtime.api('/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, title: 'Not found' });
    const wrongMethod = await runtime.api('/v1/health', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await runtime.api('/v1/health', { headers: { Origin: 'http://web.example.test' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://web.example.test');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const other = await runtime.api('/v1/health', { headers: { Origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await runtime.api('/v1/health', {
      method: 'OPTIONS',
      headers: { Origin: 'http://web.example.test', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('serves the OpenAPI document and Swagger UI with its assets', async () => {
    const openapi = await runtime.api('/v1/openapi.json');
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/v1/health');
    // With and without the trailing slash: the same page, whose URLs resolve to the same assets.
    for (const page of ['/docs', '/docs/']) {
      const docs = await runtime.api(page);
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toContain('text/html');
      const html = await docs.text();
      const base = new URL(/<base href="([^"]+)">/.exec(html)?.[1] ?? '', `${runtime.url}${page}`);
      const urls = [...html.matchAll(/(?:src|href)="(docs\/[^"]+)"/g)].map((m) => new URL(m[1]!, base));
      expect(urls.map((url) => url.pathname)).toEqual([
        '/docs/swagger-ui.css',
        '/docs/swagger-ui-bundle.js',
        '/docs/init.js',
      ]);
      for (const url of urls) expect((await fetch(url)).status).toBe(200);
      expect(new URL('v1/openapi.json', base).pathname).toBe('/v1/openapi.json');
    }
    expect((await runtime.api('/docs/../../package.json')).status).toBe(404);
    expect((await runtime.api('/docs/package.json')).status).toBe(404);
  });

  it('runs migrations again without harm', async () => {
    const { migrateToLatest } = await import('#adapters/db/migrate.ts');
    const again = await migrateToLatest(await sharedKysely());
    expect(again.results).toEqual([]);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
      await sharedKysely(),
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['users', 'videos', 'renditions']),
    );
  });

  // Last, because it takes storage away for good.
  it('answers 503 naming the failing check when storage is down', async () => {
    await runtime.s3.stop();
    const response = await runtime.api('/v1/health');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'degraded',
      checks: { database: 'ok', storage: 'failing' },
    });
  });
});
