/**
 * Playback URLs as a standard HLS client uses them, through the local runtime's /cdn/ (which runs the
 * CloudFront Function the cloud runs): the URL the API returns, and every child resolved from it by plain
 * RFC 3986 resolution — no query copied, no cookie, no custom loader. Then what must not work: unsigned
 * access, a token on another video, every path trick, an expired private URL, and old URLs after the
 * video is made private or deleted. A stand-in ladder (real objects in the media bucket, written the way
 * the transcoder writes them) keeps ffmpeg out of this suite; test/e2e plays real transcodes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { db } from '#adapters/db/index.ts';
import { OutboxRelay } from '#adapters/db/outbox.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { VideoMedia } from '#adapters/media-objects.ts';
import { sendBatchToQueue } from '#adapters/queue.ts';
import { playbackToken } from '#core/playback-token.ts';
import { OUTBOX_RETENTION_DAYS, handler as relayOutbox } from '#events/outbox-relay.ts';
import { eventually } from '#test/helpers/eventually.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

interface Playback {
  hls: string;
  poster: string;
  expiresAt?: string;
}

const PRIVATE_SECONDS = 3;

let runtime: TestRuntime;
let alice: string;
let work: string;
const previousPrivateSeconds = process.env.PRIVATE_PLAYBACK_SECONDS;

beforeAll(async () => {
  // Private URLs that expire within the test; set before the runtime reads its configuration.
  process.env.PRIVATE_PLAYBACK_SECONDS = String(PRIVATE_SECONDS);
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
  work = mkdtempSync(join(tmpdir(), 'playback-'));
}, RUNTIME_START_MS);
afterAll(async () => {
  await runtime?.close();
  rmSync(work, { recursive: true, force: true });
  if (previousPrivateSeconds === undefined) delete process.env.PRIVATE_PLAYBACK_SECONDS;
  else process.env.PRIVATE_PLAYBACK_SECONDS = previousPrivateSeconds;
}, 60_000);

/** A ready video with a one-rung fMP4 ladder and a poster in the media bucket. */
async function readyVideo(visibility: 'public' | 'unlisted' | 'private'): Promise<string> {
  const id = await seedVideo({ ownerId: 'alice', visibility, status: 'ready' });
  const media = new VideoMedia();
  const dir = mkdtempSync(join(work, 'ladder-'));
  writeFileSync(join(dir, 'init.mp4'), Buffer.from('init segment'));
  writeFileSync(join(dir, 'seg_00000.m4s'), Buffer.alloc(4096, 7));
  writeFileSync(
    join(dir, 'index.m3u8'),
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.0,\nseg_00000.m4s\n#EXT-X-ENDLIST\n',
  );
  await media.putRendition(dir, media.key(id, '720p/'));
  writeFileSync(join(dir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\n720p/index.m3u8\n');
  writeFileSync(join(dir, 'poster.jpg'), Buffer.from('jpeg'));
  await media.putFile(join(dir, 'master.m3u8'), media.key(id, 'master.m3u8'));
  await media.putFile(join(dir, 'poster.jpg'), media.key(id, 'poster.jpg'));
  return id;
}

async function playbackOf(videoId: string, token?: string): Promise<Playback> {
  const response = await runtime.api(`/v1/videos/${videoId}`, token ? { token } : {});
  expect(response.status).toBe(200);
  const { playback } = (await response.json()) as { playback: Playback | null };
  if (!playback) throw new Error(`video ${videoId} has no playback`);
  return playback;
}

/** What a player does: the master, then each URI in it resolved against it, recursively. */
async function playAll(master: string): Promise<Map<string, Response>> {
  const fetched = new Map<string, Response>();
  const queue = [master];
  while (queue.length > 0) {
    const url = queue.shift()!;
    const response = await fetch(url);
    if (response.status !== 200)
      throw new Error(`GET ${url} -> ${response.status}: ${await response.text()}`);
    fetched.set(url, response);
    if (url.split('?')[0]!.endsWith('.m3u8')) {
      const text = await response.clone().text();
      for (const line of text.split('\n')) {
        const uri = line.startsWith('#') ? /URI="([^"]+)"/.exec(line)?.[1] : line.trim() || undefined;
        if (uri) queue.push(new URL(uri, url).toString());
      }
    }
  }
  return fetched;
}

/** A GET with the path sent exactly as written (fetch would resolve dot segments first). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: runtime.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cdnPath = (url: string) => new URL(url).pathname;

describe('a public or unlisted playback URL', () => {
  it.each(['public', 'unlisted'] as const)(
    '%s: plays through plain relative resolution, and is stable',
    async (visibility) => {
      const id = await readyVideo(visibility);
      const first = await playbackOf(id);
      expect(first.hls).toMatch(
        new RegExp(`^http://localhost:${runtime.port}/cdn/t/[^/]+/videos/${id}/master\\.m3u8$`),
      );
      expect(first.expiresAt).toBeUndefined();
      expect(await playbackOf(id)).toEqual(first);
      const fetched = await playAll(first.hls);
      expect([...fetched.keys()].map((url) => url.split(`/videos/${id}/`)[1])).toEqual([
        'master.m3u8',
        '720p/index.m3u8',
        '720p/init.mp4',
        '720p/seg_00000.m4s',
      ]);
      expect((await fetch(first.poster)).status).toBe(200);
    },
  );

  it('serves segments immutable for a year and playlists briefly, with CORS for any embedding page', async () => {
    const { hls } = await playbackOf(await readyVideo('public'));
    const segment = new URL('720p/seg_00000.m4s', hls).toString();
    const fromElsewhere = { headers: { Origin: 'https://some-blog.example' } };
    const seg = await fetch(segment, fromElsewhere);
    expect(seg.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(seg.headers.get('content-type')).toBe('video/iso.segment');
    expect(seg.headers.get('access-control-allow-origin')).toBe('*');
    const master = await fetch(hls, fromElsewhere);
    expect(master.headers.get('cache-control')).toMatch(/max-age=([1-9]\d{0,2})\b/);
    expect(master.headers.get('access-control-allow-origin')).toBe('*');
    const ranged = await fetch(segment, { headers: { Range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
  });
});

describe('what playback refuses', () => {
  it('unsigned access, and a token of one video on another video', async () => {
    const a = await readyVideo('public');
    const b = await readyVideo('private');
    expect((await rawGet(`/cdn/videos/${b}/master.m3u8`)).status).toBe(403);
    const tokenOfA = cdnPath((await playbackOf(a)).hls).split('/')[3];
    const other = await rawGet(`/cdn/t/${tokenOfA}/videos/${b}/master.m3u8`);
    expect(other.status).toBe(403);
    expect(other.body).not.toContain('#EXTM3U');
  });

  it.each([
    ['..%2F<victim>%2Fmaster.m3u8', (victim: string) => `..%2F${victim}%2Fmaster.m3u8`],
    ['../<victim>/master.m3u8 (literal)', (victim: string) => `../${victim}/master.m3u8`],
    ['%2e%2e%2F<victim>%2Fmaster.m3u8', (victim: string) => `%2e%2e%2F${victim}%2Fmaster.m3u8`],
    ['double-encoded ../', (victim: string) => `%252e%252e%252F${victim}%252Fmaster.m3u8`],
    [
      'up to the uploads bucket',
      (victim: string) => `..%2F..%2F..%2Fvideocloud-uploads%2Fuploads%2F${victim}%2Fsource`,
    ],
    ['a backslash', (victim: string) => `..%5C${victim}%5Cmaster.m3u8`],
  ])("a public video's token cannot reach another video with %s", async (_name, trick) => {
    const publicId = await readyVideo('public');
    const victim = await readyVideo('private');
    const base = cdnPath((await playbackOf(publicId)).hls).replace(/master\.m3u8$/, '');
    const result = await rawGet(`${base}${trick(victim)}`);
    expect([400, 403]).toContain(result.status);
    expect(result.body).not.toContain('#EXTM3U');
  });

  it('a private video: only its owner gets a URL, which expires', async () => {
    const id = await readyVideo('private');
    expect((await runtime.api(`/v1/videos/${id}`)).status).toBe(404);
    const { hls, expiresAt } = await playbackOf(id, alice);
    expect(Date.parse(expiresAt!)).toBeLessThanOrEqual(Date.now() + PRIVATE_SECONDS * 1000 + 1000);
    await playAll(hls);
    await eventually(
      async () => {
        const response = await fetch(hls);
        expect(response.status).toBe(403);
        expect(await response.text()).toMatch(/expired/);
      },
      { timeoutMs: (PRIVATE_SECONDS + 10) * 1000, what: 'the private URL to expire' },
    );
  });

  it('making a public video private stops its public URLs at once; the owner gets working new ones', async () => {
    const id = await readyVideo('public');
    const old = await playbackOf(id);
    await playAll(old.hls);
    const patched = await runtime.api(`/v1/videos/${id}`, {
      method: 'PATCH',
      token: alice,
      json: { visibility: 'private' },
    });
    expect(patched.status).toBe(200);
    await eventually(async () => expect((await fetch(old.hls)).status).toBe(403), {
      timeoutMs: 2000,
      what: 'the public URL to be revoked',
    });
    expect((await fetch(old.poster)).status).toBe(403);
    await playAll((await playbackOf(id, alice)).hls);
  });

  it('setting private revokes whatever the video was before (so racing PATCHes cannot keep public URLs alive)', async () => {
    // The decision is made from the patch, not from a visibility read before the change: a private video
    // set private again revokes its earlier URLs too.
    const id = await readyVideo('private');
    const { hls } = await playbackOf(id, alice);
    expect((await fetch(hls)).status).toBe(200);
    const patched = await runtime.api(`/v1/videos/${id}`, {
      method: 'PATCH',
      token: alice,
      json: { visibility: 'private' },
    });
    expect(patched.status).toBe(200);
    await eventually(async () => expect((await fetch(hls)).status).toBe(403), {
      timeoutMs: 2000,
      what: 'the earlier URL to be revoked',
    });
  });

  it('deleting a video stops its URLs at once', async () => {
    const id = await readyVideo('private');
    const { hls } = await playbackOf(id, alice);
    expect((await fetch(hls)).status).toBe(200);
    expect((await runtime.api(`/v1/videos/${id}`, { method: 'DELETE', token: alice })).status).toBe(204);
    await eventually(async () => expect((await fetch(hls)).status).toBe(403), {
      timeoutMs: 2000,
      what: 'the URL of a deleted video to be revoked',
    });
  });

  it('a token minted with a key the CDN does not know is refused', async () => {
    const id = await readyVideo('public');
    const forged = playbackToken(
      { kid: 'forged', secret: 'x'.repeat(43) },
      { videoId: id, epoch: 0, expiresAt: 0 },
    );
    expect((await rawGet(`/cdn/t/${forged}/videos/${id}/master.m3u8`)).status).toBe(403);
    const key = JSON.parse(readFileSync(join(runtime.dataDir, 'keys', 'playback-key.json'), 'utf8'));
    const genuine = playbackToken(key, { videoId: id, epoch: 0, expiresAt: 0 });
    expect((await rawGet(`/cdn/t/${genuine}/videos/${id}/master.m3u8`)).status).toBe(200);
  });
});

describe('the outbox', () => {
  it('a revocation whose hand-off fails right after the commit is published by the relay, not lost', async () => {
    const id = await readyVideo('public');
    const { hls } = await playbackOf(id);
    // The API's fast path dies between commit and send (as a killed function would).
    const crashing = new PostgresVideoRepository(await db(), {
      afterOutboxWrite: () => Promise.reject(new Error('killed before the send')),
    });
    await crashing.update(id, { visibility: 'private' }, { revokePlayback: true });
    const relay = new OutboxRelay(await db(), sendBatchToQueue);
    expect(await relay.pending()).toBeGreaterThan(0);
    // The URL still plays: nothing told the CDN yet.
    expect((await fetch(hls)).status).toBe(200);
    expect((await relayOutbox()).published).toBeGreaterThan(0);
    expect(await relay.pending()).toBe(0);
    await eventually(async () => expect((await fetch(hls)).status).toBe(403), {
      timeoutMs: 5000,
      what: 'the relayed revocation to reach the CDN',
    });
  });

  it('published rows are kept OUTBOX_RETENTION_DAYS, then removed by the relay', async () => {
    const database = await sharedKysely();
    const insert = async (publishedDaysAgo: number) =>
      (
        await sql<{ id: string }>`insert into outbox (topic, payload, published_at)
          values ('playback.revoked', '{}', now() - make_interval(days => ${publishedDaysAgo}))
          returning id`.execute(database)
      ).rows[0]!.id;
    const expired = await insert(OUTBOX_RETENTION_DAYS + 1);
    const kept = await insert(OUTBOX_RETENTION_DAYS - 1);
    const remaining = async () =>
      (
        await sql<{ id: string }>`select id from outbox where id in (${sql.join([expired, kept])})`.execute(
          database,
        )
      ).rows.map((row) => String(row.id));
    expect((await relayOutbox()).pruned).toBeGreaterThanOrEqual(1);
    expect(await remaining()).toEqual([String(kept)]);
  });

  it('a revocation and its change commit together: when the outbox write fails, the change does not happen', async () => {
    const id = await readyVideo('public');
    const before = await sql<{ visibility: string; playback_epoch: number }>`
      select visibility, playback_epoch from videos where id = ${id}`.execute(await sharedKysely());
    // Make the outbox refuse this video's revocation, as a failing insert would, inside the transaction.
    const guard = `outbox_refuses_${id.replaceAll('-', '_')}`;
    await sql`alter table outbox add constraint ${sql.id(guard)} check (payload->>'videoId' is distinct from ${sql.lit(id)})`.execute(
      await sharedKysely(),
    );
    try {
      await expect(
        new PostgresVideoRepository(await db()).update(
          id,
          { visibility: 'private' },
          { revokePlayback: true },
        ),
      ).rejects.toThrow();
    } finally {
      await sql`alter table outbox drop constraint ${sql.id(guard)}`.execute(await sharedKysely());
    }
    const after = await sql<{ visibility: string; playback_epoch: number }>`
      select visibility, playback_epoch from videos where id = ${id}`.execute(await sharedKysely());
    expect(after.rows).toEqual(before.rows);
    expect(before.rows[0]!.visibility).toBe('public');
  });
});
