/**
 * Derivatives of a ready video on the local stack, as a client meets them (API.md "Downloads",
 * "Storyboard and poster"): upload with `downloads`, and once the video is ready the derivatives worker
 * (outbox -> derivatives queue) remuxes faststart MP4s from the renditions, makes the storyboard, and
 * remakes the poster when the owner picks a time. Everything is fetched over the local CDN with the URLs
 * the API returns, and checked with ffprobe / by reading the files.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { playbackToken } from '#core/playback-token.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { eventually } from '#test/helpers/eventually.ts';
import { exec, makeClip } from '#test/helpers/media.ts';
import { startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { settledVideo, uploadVideo } from '#test/helpers/upload.ts';

interface Download {
  name: string;
  width: number;
  height: number;
  size: number;
  url: string;
  expiresAt?: string;
}
interface Video {
  id: string;
  status: string;
  durationSeconds: number;
  renditions: Array<{ name: string; width: number; height: number }>;
  playback: { hls: string; poster: string; storyboard: string | null; expiresAt?: string } | null;
  downloads: Download[];
  posterTimeSeconds: number | null;
}

let runtime: TestRuntime;
let dir: string;
let alice: string;
let bob: string;
let clip: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'derivatives-e2e-'));
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
  bob = await runtime.token('bob', ['creator']);
  clip = readFileSync(await makeClip(dir, 'clip.mp4', { width: 640, height: 360, seconds: 12 }));
}, 240_000);
afterAll(async () => {
  await runtime?.close();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

const get = async (id: string, token = alice) =>
  (await (await runtime.api(`/v1/videos/${id}`, { token })).json()) as Video;

const patch = (id: string, json: unknown, token = alice) =>
  runtime.api(`/v1/videos/${id}`, { method: 'PATCH', token, json });

/** The ready video once `check` holds (the worker runs after `video.ready`). */
function videoWhen(id: string, check: (video: Video) => boolean, what: string): Promise<Video> {
  return eventually(
    async () => {
      const video = await get(id);
      if (!check(video)) throw new Error(`not yet: ${what}`);
      return video;
    },
    { timeoutMs: 120_000, intervalMs: 250, what },
  );
}

/** The object a CDN URL serves: its path without the token (a private token differs on every read). */
const objectKey = (url: string) => new URL(url).pathname.replace(/^.*?\/(videos\/)/, '$1');

/** Top-level MP4 boxes in file order. */
function topLevelBoxes(bytes: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    if (size < 8) break;
    boxes.push(type);
    at += size;
  }
  return boxes;
}

async function probe(file: string) {
  const { ffprobe } = await resolveBinaries();
  const out = await exec(ffprobe, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]);
  expect(out.code).toBe(0);
  return JSON.parse(out.stdout) as {
    streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>;
    format: { duration: string; format_name: string };
  };
}

async function jpegSize(bytes: Buffer, name: string) {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  const { streams } = await probe(file);
  return { width: streams[0]!.width!, height: streams[0]!.height! };
}

describe('derivatives', () => {
  let privateId: string;
  let ready: Video;

  beforeAll(async () => {
    privateId = await uploadVideo(runtime, alice, clip, { visibility: 'private', downloads: 'all' });
    expect((await settledVideo(runtime, alice, privateId)).status).toBe('ready');
    ready = await videoWhen(
      privateId,
      (v) => v.downloads.length === v.renditions.length && v.playback?.storyboard != null,
      'every download and the storyboard',
    );
  }, 300_000);

  it('lists a faststart MP4 of every rendition, copied (not re-encoded), with its size', async () => {
    expect(ready.renditions.length).toBeGreaterThan(0);
    for (const download of ready.downloads) {
      const rendition = ready.renditions.find((r) => r.name === download.name)!;
      expect(download).toMatchObject({ width: rendition.width, height: rendition.height });
      expect(download.expiresAt).toBe(ready.playback!.expiresAt);
      const response = await fetch(download.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('video/mp4');
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\.mp4"$/);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.length).toBe(download.size);
      const boxes = topLevelBoxes(bytes);
      expect(boxes).toContain('mdat');
      expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      expect(boxes).not.toContain('moof');
      const file = path.join(dir, `${download.name}.mp4`);
      await writeFile(file, bytes);
      const info = await probe(file);
      expect(info.format.format_name).toMatch(/mp4/);
      expect(Number(info.format.duration)).toBeGreaterThan(11);
      const video = info.streams.find((s) => s.codec_type === 'video')!;
      expect(video).toMatchObject({ codec_name: 'h264', width: rendition.width, height: rendition.height });
      expect(info.streams.some((s) => s.codec_type === 'audio' && s.codec_name === 'aac')).toBe(true);
    }
  });

  it('private download URLs obey playback access: no other video, no expired token', async () => {
    const url = new URL(ready.downloads[0]!.url);
    const other = await uploadVideo(runtime, alice, clip, { visibility: 'private' });
    // This video's token on another video's path.
    const wrongVideo = url.pathname.replace(privateId, other);
    expect((await fetch(new URL(wrongVideo, url))).status).toBe(403);
    // A genuine signature that has expired.
    const [, token] = /\/t\/([^/]+)\//.exec(url.pathname) ?? [];
    const epoch = Number(token!.split('.')[1]);
    const key = JSON.parse(readFileSync(path.join(runtime.dataDir, 'keys', 'playback-key.json'), 'utf8'));
    const expired = playbackToken(key, {
      videoId: privateId,
      epoch,
      expiresAt: Math.floor(Date.now() / 1000) - 5,
    });
    const response = await fetch(new URL(url.pathname.replace(token!, expired), url));
    expect(response.status).toBe(403);
    // Someone else's bearer token sees no video, hence no download.
    expect((await runtime.api(`/v1/videos/${privateId}`, { token: bob })).status).toBe(404);
  });

  it('the storyboard WebVTT maps the whole video to tiles inside its sprites', async () => {
    const vtt = await (await fetch(ready.playback!.storyboard!)).text();
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    const cues = [
      ...vtt.matchAll(
        /(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(sprite-\d+\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)/g,
      ),
    ];
    expect(cues.length).toBeGreaterThanOrEqual(6);
    const sizes = new Map<string, { width: number; height: number }>();
    for (const [, , , sprite, x, y, w, h] of cues) {
      if (!sizes.has(sprite!)) {
        const response = await fetch(new URL(sprite!, ready.playback!.storyboard!));
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('image/jpeg');
        sizes.set(sprite!, await jpegSize(Buffer.from(await response.arrayBuffer()), sprite!));
      }
      const size = sizes.get(sprite!)!;
      expect(Number(w)).toBe(160);
      expect(Number(x) + Number(w)).toBeLessThanOrEqual(size.width);
      expect(Number(y) + Number(h)).toBeLessThanOrEqual(size.height);
    }
    const last = cues[cues.length - 1]![2]!;
    const [hh, mm, ss] = last.split(':').map(Number) as [number, number, number];
    expect(hh * 3600 + mm * 60 + ss).toBeGreaterThanOrEqual(ready.durationSeconds - 2);
  });

  it('posterTimeSeconds outside 0..duration, or not a number, is a 400 that changes nothing', async () => {
    for (const bad of [ready.durationSeconds + 1, -1, '3', true]) {
      const response = await patch(privateId, { posterTimeSeconds: bad });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
    expect((await patch(privateId, { downloads: 'some' })).status).toBe(400);
    expect((await get(privateId)).posterTimeSeconds).toBeNull();
  });

  it('a chosen poster time remakes the poster at a new URL, with other bytes', async () => {
    const before = Buffer.from(await (await fetch(ready.playback!.poster)).arrayBuffer());
    const response = await patch(privateId, { posterTimeSeconds: 10.5 });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Video).posterTimeSeconds).toBe(10.5);
    const remade = await videoWhen(
      privateId,
      (v) => objectKey(v.playback!.poster) !== objectKey(ready.playback!.poster),
      'the poster to be remade',
    );
    const poster = await fetch(remade.playback!.poster);
    expect(poster.status).toBe(200);
    const after = Buffer.from(await poster.arrayBuffer());
    expect(after.equals(before)).toBe(false);
    const size = await jpegSize(after, 'poster.jpg');
    expect(size).toEqual({ width: ready.renditions[0]!.width, height: ready.renditions[0]!.height });
  });

  it('downloads disappear when turned off, from the listing at once and from storage after', async () => {
    const keys = ready.downloads.map((d) => objectKey(d.url));
    const response = await patch(privateId, { downloads: 'none' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Video).downloads).toEqual([]);
    const s3 = localS3Client(runtime.s3);
    await eventually(
      async () => {
        for (const Key of keys) {
          await expect(
            s3.send(new HeadObjectCommand({ Bucket: LOCAL_RESOURCES.mediaBucket, Key })),
          ).rejects.toMatchObject({ name: 'NotFound' });
        }
      },
      { timeoutMs: 60_000, what: 'the MP4s to be removed' },
    );
    // Turned on again for the top rendition only.
    expect((await patch(privateId, { downloads: 'highest' })).status).toBe(200);
    const again = await videoWhen(privateId, (v) => v.downloads.length === 1, 'the highest download');
    expect(again.downloads[0]!.name).toBe(ready.renditions[0]!.name);
  });
});
