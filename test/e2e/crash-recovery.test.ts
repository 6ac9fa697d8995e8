/**
 * kill -9 of the worker mid-transcode, on the local stack as `npm start` runs it (a child process): the
 * encoder stops with its worker (it was reading through the worker's fence), the message was held by the
 * worker's heartbeat for one lease only (5 s here; 120 s in the cloud, pinned by test/infra), and a
 * restart on the same data dir takes the job up again and finishes: the video is ready within minutes,
 * with every segment its playlists name and nothing else. It used to wait out the queue's 90 minutes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client, startLocalS3 } from '#local/s3.ts';
import { localCredentials } from '#local/sigv4.ts';
import { eventually, until } from '#test/helpers/eventually.ts';
import { commandLine, descendants, isAlive, type Launched, launch } from '#test/helpers/launcher.ts';
import { makeClip } from '#test/helpers/media.ts';

const LEASE_SECONDS = 5;
const linux = process.platform === 'linux' ? describe : describe.skip;

interface Video {
  id: string;
  status: string;
  failureReason: string | null;
  playback: { hls: string; storyboard: string | null } | null;
}

linux('a worker killed mid-transcode', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'crash-recovery-'));
  const dataDir = path.join(dir, 'data');
  const launched: Launched[] = [];
  let clip: Buffer;
  const start = () => {
    const runtime = launch({ dataDir, how: 'node', env: { QUEUE_LEASE_SECONDS: String(LEASE_SECONDS) } });
    launched.push(runtime);
    return runtime;
  };

  beforeAll(async () => {
    // Long enough that the kill lands while ffmpeg encodes (three rungs, ~40 s of video).
    clip = await readFile(await makeClip(dir, 'long.mp4', { width: 854, height: 480, seconds: 40 }));
  }, 120_000);
  afterAll(() => {
    for (const runtime of launched) runtime.killGroup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is picked up again within a lease after a restart, and the video is ready with no missing or extra object', async () => {
    const first = start();
    let url = await first.ready(90_000);
    const token = await mint(url);
    const videoId = await upload(url, token, clip);

    // Wait for the ladder run: an ffmpeg below the runtime reading HLS outputs.
    let encoder: number | undefined;
    await until(
      () => {
        encoder = descendants(first.pid).find((pid) =>
          /ffmpeg.*-filter_complex.*-f hls/.test(commandLine(pid)),
        );
        return encoder !== undefined;
      },
      { timeoutMs: 120_000, what: 'an ffmpeg transcode to start below the runtime' },
    );
    const killedAt = Date.now();
    process.kill(first.pid, 'SIGKILL');
    await first.exited;

    // The encoder read the source through the dead worker's fence: it stops too.
    await until(() => !isAlive(encoder!), {
      timeoutMs: 30_000,
      what: 'ffmpeg to exit with its killed worker',
    });

    // The message is held for one lease from the last renewal, not the queue's 90 minutes.
    const saved = JSON.parse(readFileSync(path.join(dataDir, 'queues.json'), 'utf8')) as Record<
      string,
      Array<{ body: string; visibleAt: number; receiveCount: number }>
    >;
    const message = saved.transcode?.find((m) => m.body.includes(videoId));
    expect(message).toBeDefined();
    expect(message!.receiveCount).toBe(1);
    expect(message!.visibleAt - killedAt).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + 1000);

    const second = start();
    url = await second.ready(90_000);
    const video = await settled(url, token, videoId, killedAt + 5 * 60_000);
    expect(video).toMatchObject({ status: 'ready', failureReason: null });
    console.log(
      `kill -9 -> ready in ${((Date.now() - killedAt) / 1000).toFixed(1)} s (lease ${LEASE_SECONDS} s)`,
    );

    // The storyboard comes from the derivatives worker once the video is ready: wait for it, so the
    // listing below sees what the pipeline leaves for good.
    let storyboard: string | null = null;
    await until(
      async () => {
        const now = (await (await api(url, token, `/v1/videos/${videoId}`)).json()) as Video;
        storyboard = now.playback?.storyboard ?? null;
        return storyboard !== null;
      },
      { timeoutMs: 120_000, what: 'the storyboard' },
    );
    // Everything the playlists and the storyboard name is served, and the bucket holds exactly that.
    const expected = await publishedKeys(video.playback!.hls, storyboard!, videoId);
    second.child.kill('SIGINT');
    await second.exited;
    // The stopped runtime's storage, opened again with its own credentials.
    const s3 = await startLocalS3({
      directory: path.join(dataDir, 's3'),
      buckets: [{ name: LOCAL_RESOURCES.mediaBucket }],
      credentials: localCredentials(path.join(dataDir, 'keys')),
    });
    try {
      const listed = await localS3Client(s3).send(
        new ListObjectsV2Command({ Bucket: LOCAL_RESOURCES.mediaBucket, Prefix: `videos/${videoId}/` }),
      );
      expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(expected.sort());
    } finally {
      await s3.stop();
    }
  }, 420_000);
});

async function mint(url: string): Promise<string> {
  const response = await fetch(`${url}/local/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub: 'alice', groups: ['creator'] }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

async function api(url: string, token: string, route: string, json?: unknown): Promise<Response> {
  return fetch(`${url}${route}`, {
    method: json === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

async function upload(url: string, token: string, file: Buffer): Promise<string> {
  const created = await api(url, token, '/v1/uploads', {
    filename: 'long.mp4',
    contentType: 'video/mp4',
    size: file.length,
    title: 'crash',
    visibility: 'public',
  });
  expect(created.status).toBe(201);
  const { uploadId, videoId, partSize, partCount } = (await created.json()) as {
    uploadId: string;
    videoId: string;
    partSize: number;
    partCount: number;
  };
  const signed = await api(url, token, `/v1/uploads/${uploadId}/parts`, {
    partNumbers: Array.from({ length: partCount }, (_, i) => i + 1),
  });
  const { parts } = (await signed.json()) as {
    parts: Array<{ partNumber: number; url: string; headers: Record<string, string> }>;
  };
  for (const part of parts) {
    const body = file.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
    const put = await fetch(part.url, { method: 'PUT', body: new Uint8Array(body), headers: part.headers });
    expect(put.status).toBe(200);
  }
  expect((await api(url, token, `/v1/uploads/${uploadId}/complete`, {})).status).toBe(202);
  return videoId;
}

async function settled(url: string, token: string, videoId: string, deadline: number): Promise<Video> {
  return eventually(
    async () => {
      const video = (await (await api(url, token, `/v1/videos/${videoId}`)).json()) as Video;
      if (video.status === 'processing') throw new Error('still processing');
      return video;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 250, what: `video ${videoId} to settle` },
  );
}

/**
 * The media keys a player reaches from the master playlist (variant and EXT-X-MEDIA renditions, each
 * fetched: 200), the storyboard's VTT and sprites, plus poster and thumbnail.
 */
async function publishedKeys(masterUrl: string, storyboardUrl: string, videoId: string): Promise<string[]> {
  const prefix = `videos/${videoId}/`;
  const keyOf = (u: URL) => decodeURIComponent(u.pathname.slice(u.pathname.indexOf(prefix)));
  const get = async (u: URL) => {
    const response = await fetch(u);
    expect({ url: u.pathname, status: response.status }).toEqual({ url: u.pathname, status: 200 });
    return response;
  };
  const master = new URL(masterUrl);
  const keys = [keyOf(master), `${prefix}poster.jpg`, `${prefix}thumbnail.jpg`];
  const masterText = await (await get(master)).text();
  const renditionUris = [...masterText.matchAll(/^#EXT-X-MEDIA:.*URI="([^"]+)"/gm)].map((m) => m[1]!);
  const variantUris = masterText.split('\n').filter((line) => line && !line.startsWith('#'));
  for (const uri of [...variantUris, ...renditionUris]) {
    const playlist = new URL(uri, master);
    playlist.search = master.search;
    keys.push(keyOf(playlist));
    const text = await (await get(playlist)).text();
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)?.[1];
    for (const child of [
      ...(init ? [init] : []),
      ...text.split('\n').filter((l) => l && !l.startsWith('#')),
    ]) {
      const segment = new URL(child, playlist);
      segment.search = master.search;
      keys.push(keyOf(segment));
      await get(segment);
    }
  }
  const board = new URL(storyboardUrl);
  keys.push(keyOf(board));
  for (const [, sprite] of (await (await get(board)).text()).matchAll(/^(\S+?)#xywh=/gm)) {
    const image = new URL(sprite!, board);
    image.search = board.search;
    keys.push(keyOf(image));
    await get(image);
  }
  return [...new Set(keys)];
}
