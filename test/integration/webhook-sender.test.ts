/**
 * The sender's HTTP, against real sockets on loopback: it connects to the address it checked (a name
 * that resolves nowhere else still reaches the receiver, with its Host header), refuses names that
 * resolve to private or link-local addresses (even one among public ones), does not follow redirects,
 * reads only the start of a large answer, and gives up after 10 s.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { postWebhook } from '#adapters/webhooks/http.ts';
import { RESPONSE_EXCERPT_CHARS } from '#core/webhooks.ts';

let server: Server;
let port: number;
const seen: IncomingMessage[] = [];
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(204).end(),
  '/redirect': (res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end(),
  '/big': (res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(5 * 1024 * 1024));
  },
  '/silent': () => undefined,
};

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const local = { allowLoopbackHttp: true };
const cloud = { allowLoopbackHttp: false };
const post = (url: string, resolve?: (host: string) => Promise<string[]>, policy = local) =>
  postWebhook({ url, body: '{"id":"1"}', headers: { 'webhook-id': '1' } }, policy, resolve);

describe('the sender', () => {
  it('connects to the address it resolved and checked, keeping the name in the Host header', async () => {
    const lookups: string[] = [];
    const outcome = await post(`http://hooks.example.test:${port}/ok`, async (host) => {
      lookups.push(host);
      return ['127.0.0.1'];
    });
    expect(outcome).toMatchObject({ succeeded: true, statusCode: 204, error: null });
    expect(lookups).toEqual(['hooks.example.test']);
    expect(seen.at(-1)!.headers.host).toBe(`hooks.example.test:${port}`);
    expect(seen.at(-1)!.headers['webhook-id']).toBe('1');
  });

  it.each([
    [['10.1.2.3'], 'private'],
    [['93.184.215.14', '169.254.169.254'], 'link-local'],
    [['::ffff:127.0.0.1'], 'loopback'],
    [[], 'resolve'],
  ])('refuses a name resolving to %j (rule %s) without connecting', async (addresses, rule) => {
    const before = seen.length;
    const outcome = await post(`https://hooks.example.test:${port}/ok`, async () => addresses, cloud);
    expect(outcome.succeeded).toBe(false);
    expect(outcome.error).toContain(`rule "${rule}"`);
    expect(seen.length).toBe(before);
  });

  it('refuses http:// in the cloud and link-local everywhere', async () => {
    expect((await post(`http://127.0.0.1:${port}/ok`, undefined, cloud)).error).toContain('rule "loopback"');
    expect((await post('http://169.254.169.254/latest/meta-data/', undefined, local)).error).toContain(
      'rule "link-local"',
    );
  });

  it('does not follow a redirect', async () => {
    const outcome = await post(`http://127.0.0.1:${port}/redirect`);
    expect(outcome).toMatchObject({ succeeded: false, statusCode: 302 });
    expect(outcome.error).toContain('redirects are not followed');
  });

  it('reads only the start of a large answer', async () => {
    const outcome = await post(`http://127.0.0.1:${port}/big`);
    expect(outcome.succeeded).toBe(true);
    expect(outcome.responseExcerpt).toHaveLength(RESPONSE_EXCERPT_CHARS);
  });

  it('gives up on an endpoint that does not answer within 10 s', async () => {
    const started = Date.now();
    const outcome = await post(`http://127.0.0.1:${port}/silent`);
    expect(outcome).toMatchObject({ succeeded: false, statusCode: null, error: 'no answer within 10 s' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
