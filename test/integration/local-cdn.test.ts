/**
 * The local CDN ends a response whose object stream fails midway (an object deleted or replaced while it
 * is read), as a CDN cuts the connection: the client gets an error, not a body that never ends. (A plain
 * pipe left the captions suite's fetch of a track being deleted waiting until the test's deadline.)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from '@jest/globals';
import { cdnEndpoint } from '#local/cdn.ts';

const VIDEO = '0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d';

describe('the local CDN', () => {
  const failing = {
    send: async () => ({
      ContentLength: 100,
      Body: new Readable({
        read() {
          this.push('#EXTM3U\n');
          this.destroy(new Error('the object went away mid-read'));
        },
      }),
    }),
  } as unknown as S3Client;
  const endpoint = cdnEndpoint({
    s3: () => failing,
    bucket: 'media',
    // The gate's answer for an allowed request: the object's path.
    gate: async (event) => ({ ...event.request, uri: `/videos/${VIDEO}/master.m3u8` }),
    embedOrigins: ['*'],
  });
  const server = createServer((req, res) => {
    void endpoint(req, res, new URL(req.url ?? '/', 'http://localhost'), Buffer.alloc(0));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('cuts the response when the object stream fails, instead of leaving it open', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const read = async () =>
      (
        await fetch(`http://127.0.0.1:${port}/cdn/videos/${VIDEO}/master.m3u8`, {
          signal: AbortSignal.timeout(10_000),
        })
      ).text();
    const error = await read().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // Cut by the server at once, not given up on by the client's own deadline.
    expect(error).toBeDefined();
    expect(error?.name).not.toBe('TimeoutError');
  });
});
