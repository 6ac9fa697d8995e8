import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { webEndpoint } from '#local/web.ts';
import { parseWebConfig } from '#shared/web-config.ts';
import { problemSentence } from '../../web/src/api.ts';

describe('API errors as sentences', () => {
  it('prefers detail, then title, and never shows JSON', () => {
    expect(problemSentence({ title: 'Conflict', detail: 'Parts 2 and 3 are missing' }, 409)).toBe(
      'Parts 2 and 3 are missing.',
    );
    expect(problemSentence({ title: 'Not found' }, 404)).toBe('Not found.');
    expect(
      problemSentence(
        {
          title: 'Invalid request',
          detail: 'The request is invalid.',
          errors: [{ path: 'body.title', message: 'Too long' }],
        },
        400,
      ),
    ).toBe('The request is invalid. title: Too long.');
    expect(problemSentence(undefined, 502)).toBe('The server answered with an error (HTTP 502).');
    expect(problemSentence(undefined, 0)).toMatch(/could not be reached/);
  });
});

describe('web config', () => {
  it('accepts the local and the Cognito shapes and trims the API URL', () => {
    expect(
      parseWebConfig({
        apiBaseUrl: 'http://localhost:3000/',
        auth: { mode: 'local', tokenUrl: '/local/token' },
      }),
    ).toEqual({
      apiBaseUrl: 'http://localhost:3000',
      auth: { mode: 'local', tokenUrl: '/local/token' },
    });
    const cognito = {
      mode: 'cognito',
      domain: 'https://x.auth.eu-west-1.amazoncognito.com',
      clientId: 'abc',
      scopes: ['openid'],
    };
    expect(parseWebConfig({ apiBaseUrl: 'https://api.test/dev', auth: cognito }).auth).toEqual(cognito);
  });

  it('names what is wrong', () => {
    expect(() =>
      parseWebConfig({ apiBaseUrl: 'x', auth: { mode: 'cognito', clientId: 'a', scopes: [] } }),
    ).toThrow('auth.domain is required');
    expect(() => parseWebConfig({ apiBaseUrl: 'x', auth: { mode: 'saml' } })).toThrow('auth.mode');
    expect(() => parseWebConfig(null)).toThrow('not an object');
  });
});

describe('local web serving', () => {
  let server: Server;
  let base: string;
  let dist: string;
  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'videocloud-web-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dist, 'assets', 'app-ABC.js'), 'console.log(1)');
    const endpoint = webEndpoint({ distDir: dist });
    server = createServer((req, res) => {
      void endpoint(req, res, new URL(req.url ?? '/', 'http://localhost'), Buffer.alloc(0)).then(
        (handled) => {
          if (!handled) {
            res.writeHead(418);
            res.end();
          }
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves files with content types, client routes as index.html, and config.json for this origin', async () => {
    const script = await fetch(`${base}/assets/app-ABC.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    const route = await fetch(`${base}/videos/abc`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>app</title>');
    expect(route.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await (await fetch(`${base}/config.json`)).json()).toEqual({
      apiBaseUrl: base,
      auth: { mode: 'local', tokenUrl: '/local/token' },
    });
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('leaves the API, docs, token issuer, CDN and non-GET requests to others', async () => {
    for (const path of ['/v1/health', '/docs', '/local/token', '/cdn/videos/x/master.m3u8']) {
      expect((await fetch(`${base}${path}`)).status).toBe(418);
    }
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(418);
  });
});
