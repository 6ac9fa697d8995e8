/**
 * The loopback object fence (lambdas/adapters/object-fence.ts) with real ffprobe/ffmpeg, both Debian's and
 * the npm static builds the Lambda layer ships: the static builds crash on any URL with a hostname, and
 * read a stored object through the fence by ranges; the fence serves that object and nothing else; a
 * storage failure while ffmpeg reads is ours to retry, never the file's fault.
 */
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Binaries, resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { transcodeToHls } from '#adapters/ffmpeg/hls.ts';
import { probe } from '#adapters/ffmpeg/probe.ts';
import { openObjectFence, parseRange, type StoredObject, withObjectFence } from '#adapters/object-fence.ts';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { planLadder } from '#core/media/ladder.ts';
import { validateSource } from '#core/media/probe.ts';
import { until } from '#test/helpers/eventually.ts';
import { exec, makeClip, makeMjpegSizeBomb } from '#test/helpers/media.ts';

const STATIC = {
  ffmpeg: path.resolve('node_modules/@ffmpeg-installer/linux-x64/ffmpeg'),
  ffprobe: path.resolve('node_modules/@ffprobe-installer/linux-x64/ffprobe'),
};
const staticBuilds = process.platform === 'linux' && process.arch === 'x64' ? describe : describe.skip;

let dir: string;
let clip: string;
let binaries: Binaries;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'object-fence-'));
  binaries = await resolveBinaries();
  // Index at the end (no faststart): a reader must seek to it and back, by ranges.
  clip = await makeClip(dir, 'clip.mp4', { width: 320, height: 180, seconds: 4 });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stored object backed by a local file, recording what was asked of it. */
function fileObject(file: string, options: { failFromRead?: number } = {}) {
  const reads: Array<{ start: number; end: number; etag?: string }> = [];
  const object: StoredObject = {
    async head() {
      return { size: (await stat(file)).size, etag: '"v1"' };
    },
    async read(start, end, etag) {
      reads.push({ start, end, etag });
      if (options.failFromRead !== undefined && reads.length >= options.failFromRead) {
        throw Object.assign(new Error('connect ECONNREFUSED storage'), { name: 'TimeoutError' });
      }
      return new Uint8Array((await readFile(file)).subarray(start, end + 1));
    },
  };
  return { object, reads };
}

describe('parseRange', () => {
  it('reads the one-range forms and refuses what cannot be served', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual([0, 99]);
    expect(parseRange('bytes=900-', 1000)).toEqual([900, 999]);
    expect(parseRange('bytes=-10', 1000)).toEqual([990, 999]);
    expect(parseRange('bytes=0-5000', 1000)).toEqual([0, 999]);
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-9', 1000)).toBeUndefined();
    expect(parseRange(undefined, 1000)).toBeUndefined();
  });
});

describe('the fence serves one object, by ranges, to loopback only', () => {
  it('answers ranges and HEAD for its token path, and nothing else', async () => {
    const { object, reads } = fileObject(clip);
    const bytes = await readFile(clip);
    await withObjectFence(object, async (fence) => {
      const url = new URL(fence.url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.pathname).toMatch(/^\/[0-9a-f]{48}\/source$/);

      const whole = await fetch(fence.url);
      expect(whole.status).toBe(200);
      expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

      const part = await fetch(fence.url, { headers: { Range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

      const head = await fetch(fence.url, { method: 'HEAD' });
      expect(head.headers.get('content-length')).toBe(String(bytes.length));
      expect((await fetch(fence.url, { headers: { Range: `bytes=${bytes.length}-` } })).status).toBe(416);

      // Anything but the one object: another path, a guessed token, another method.
      expect((await fetch(`${url.origin}/`)).status).toBe(404);
      expect((await fetch(`${url.origin}/${'0'.repeat(48)}/source`)).status).toBe(404);
      expect((await fetch(fence.url, { method: 'POST', body: 'x' })).status).toBe(405);
      expect(fence.stats.refused).toBe(3);
    });
    // Every storage read was pinned to the revision the fence opened.
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads.map((r) => r.etag))).toEqual(new Set(['"v1"']));
  });

  it('stops reading storage soon after a reader hangs up (every seek does)', async () => {
    const big = path.join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(64 * 1024 * 1024, 7));
    const { object } = fileObject(big);
    await withObjectFence(object, async (fence) => {
      const controller = new AbortController();
      const response = await fetch(fence.url, { signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await until(() => fence.stats.requests === 1 && !fence.busy(), {
        timeoutMs: 5_000,
        what: 'the one request to finish',
      });
      // A few chunks and the socket's buffers, not the 64 MiB object.
      expect(fence.stats.bytesRead).toBeLessThan(32 * 1024 * 1024);
    });
  });

  it('is closed after use: its port no longer answers', async () => {
    const fence = await openObjectFence(fileObject(clip).object);
    await fence.close();
    await expect(fetch(fence.url)).rejects.toThrow();
  });
});

staticBuilds('the npm static builds (what the Lambda layer ships)', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    await access(STATIC.ffprobe, constants.X_OK);
    const body = await readFile(clip);
    server = createServer((_req, res) => res.end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('crash on a URL with a hostname (the reason ffmpeg only ever gets a loopback IP)', async () => {
    const byName = await exec(STATIC.ffprobe, [
      '-v',
      'error',
      '-show_format',
      `http://localhost:${port}/x.mp4`,
    ]);
    // 139: SIGSEGV inside the static glibc's getaddrinfo. The same URL by address works.
    expect(byName.code).not.toBe(0);
    const byAddress = await exec(STATIC.ffprobe, [
      '-v',
      'error',
      '-show_format',
      `http://127.0.0.1:${port}/x.mp4`,
    ]);
    expect(byAddress.code).toBe(0);
  });

  it('the adapter refuses to hand ffmpeg a hostname at all', async () => {
    await expect(probe(`http://localhost:${port}/x.mp4`, { binaries })).rejects.toThrow(
      /^refusing to let ffmpeg open http:\/\/localhost/,
    );
    await expect(probe('https://bucket.s3.amazonaws.com/x?X-Amz-Signature=s', { binaries })).rejects.toThrow(
      MediaToolError,
    );
  });

  it('probe and transcode a fenced object by ranges', async () => {
    const staticBinaries = { ...binaries, ...STATIC };
    const { object, reads } = fileObject(clip);
    await withObjectFence(object, async (fence) => {
      const validation = validateSource(await probe(fence, { binaries: staticBinaries }));
      if (!validation.ok) throw new Error(validation.reason);
      const result = await transcodeToHls({
        input: fence,
        container: validation.source.container,
        plan: planLadder(validation.source),
        outputDir: path.join(dir, 'out-static-fence'),
        preset: 'ultrafast',
        binaries: staticBinaries,
      });
      expect(result.renditions.map((r) => r.name)).toEqual(['240p']);
      // The index is at the end: the readers asked for ranges, not just one whole download.
      expect(fence.stats.requests).toBeGreaterThan(2);
      expect(fence.storageFailure()).toBeUndefined();
    });
    expect(reads.some((r) => r.start > 0)).toBe(true);
  }, 60_000);
});

describe('whose fault a failed read is', () => {
  it('storage failing mid-read is ours (retried), even when ffmpeg makes something of the bytes it got', async () => {
    const { object } = fileObject(clip, { failFromRead: 2 });
    const failure = await withObjectFence(object, (fence) => probe(fence, { binaries })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(MediaToolError);
    expect((failure as Error).message).toBe(
      'could not read the source from storage: connect ECONNREFUSED storage',
    );
  });

  it('a file whose every picture fails to decode is the file’s fault: permanent, with a reason', async () => {
    const bomb = await makeMjpegSizeBomb(dir, 'sof.mov');
    const validation = validateSource(await probe(bomb, { binaries }));
    // ffprobe alone believes the header (or catches the size, depending on the build).
    if (!validation.ok) {
      expect(validation.reason).toMatch(/16000x16000/);
      return;
    }
    const failure = await withObjectFence(fileObject(bomb).object, (fence) =>
      transcodeToHls({
        input: fence,
        container: validation.source.container,
        plan: planLadder(validation.source),
        outputDir: path.join(dir, 'out-sof'),
        preset: 'ultrafast',
        binaries,
      }),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MediaRejectedError);
    expect((failure as Error).message).toMatch(
      /^(could not be decoded: .+; export it again \(for example as H\.264 MP4\) and upload the new file|resolution 16000x16000 is over the 7680x4320 limit)$/,
    );
  }, 30_000);
});
