/**
 * The whole pipeline as a user meets it, on the local stack: upload through the API and presigned part
 * URLs, S3 event -> ingest (scan, probe, plan) -> ffmpeg transcode -> ready, then play over HTTP from the
 * playback URL: master playlist, variant playlists and segments, checked with ffprobe. Hostile files go
 * the same way and must end `failed` with a reason, without anything reading the canaries they point at.
 */
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import {
  exec,
  makeClip,
  makeMjpegGrowingBomb,
  makeMjpegSizeBomb,
  makeTimestampBomb,
} from '#test/helpers/media.ts';
import { startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { type ApiVideo, settledVideo, uploadVideo } from '#test/helpers/upload.ts';

type Video = ApiVideo;

let runtime: TestRuntime;
let dir: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pipeline-e2e-'));
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
  bob = await runtime.token('bob', ['creator']);
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

function upload(file: Buffer, visibility: 'public' | 'private', title = 'clip'): Promise<string> {
  return uploadVideo(runtime, alice, file, { visibility, title });
}

function settled(videoId: string, timeoutMs = 120_000): Promise<Video> {
  return settledVideo(runtime, alice, videoId, timeoutMs);
}

/** A URI of a playlist, resolved against it the way every HLS client does (RFC 3986, nothing copied). */
function child(parent: string, uri: string): string {
  return new URL(uri, parent).toString();
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} -> ${response.status}`);
  return response;
}

interface Variant {
  width: number;
  height: number;
  uri: string;
  line: string;
}

function variantsOf(master: string): Variant[] {
  const lines = master.split('\n');
  return lines.flatMap((line, i) => {
    const size = /RESOLUTION=(\d+)x(\d+)/.exec(line);
    if (!line.startsWith('#EXT-X-STREAM-INF:') || !size) return [];
    return [{ width: Number(size[1]), height: Number(size[2]), uri: lines[i + 1]!, line }];
  });
}

async function ffprobeDuration(file: string): Promise<number> {
  const { ffprobe } = await resolveBinaries();
  const out = await exec(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'default=nw=1:nk=1',
    file,
  ]);
  if (out.code !== 0) throw new Error(out.stderr);
  return Number.parseFloat(out.stdout);
}

/** Plays the video the way a player does, and checks everything a player relies on. */
async function expectPlayable(video: Video, source: { width: number; height: number; seconds: number }) {
  expect(video.playback).not.toBeNull();
  const masterUrl = video.playback!.hls;
  const master = await (await fetchOk(masterUrl)).text();
  expect(master.startsWith('#EXTM3U')).toBe(true);
  const variants = variantsOf(master);
  expect(variants.length).toBeGreaterThanOrEqual(1);
  expect(variants.length).toBe(video.renditions.length);
  for (const variant of variants) {
    // Never upscaled; orientation kept; CODECS and FRAME-RATE declared.
    expect(variant.width).toBeLessThanOrEqual(source.width);
    expect(variant.height).toBeLessThanOrEqual(source.height);
    expect(variant.width > variant.height).toBe(source.width > source.height);
    expect(variant.line).toMatch(/BANDWIDTH=\d+/);
    expect(variant.line).toMatch(/AVERAGE-BANDWIDTH=\d+/);
    expect(variant.line).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
    expect(variant.line).toMatch(/FRAME-RATE=\d+\.\d{3}/);

    const playlistUrl = child(masterUrl, variant.uri);
    const playlist = await (await fetchOk(playlistUrl)).text();
    expect(playlist).toMatch(/#EXT-X-ENDLIST/);
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number.parseFloat(m[1]!));
    const total = durations.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - source.seconds)).toBeLessThanOrEqual(0.25);

    // The last segment, with its init segment, decodes to a few seconds of media.
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
    const segments = playlist.split('\n').filter((line) => line && !line.startsWith('#'));
    const [initBytes, segmentBytes] = await Promise.all(
      [init, segments.at(-1)!].map(async (uri) =>
        Buffer.from(await (await fetchOk(child(playlistUrl, uri))).arrayBuffer()),
      ),
    );
    const joined = path.join(dir, `${video.id}-${variant.height}.mp4`);
    await writeFile(joined, Buffer.concat([initBytes!, segmentBytes!]));
    expect(await ffprobeDuration(joined)).toBeGreaterThan(0.5);
  }
  const poster = await fetchOk(video.playback!.poster);
  expect(poster.headers.get('content-type')).toBe('image/jpeg');
  const jpeg = Buffer.from(await poster.arrayBuffer());
  expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
}

describe('the binaries', () => {
  it('are the ones FFMPEG_PATH / FFPROBE_PATH name, when set (CI runs this suite again with the npm static builds)', async () => {
    const binaries = await resolveBinaries();
    if (process.env.FFMPEG_PATH) expect(binaries.ffmpeg).toBe(process.env.FFMPEG_PATH);
    if (process.env.FFPROBE_PATH) expect(binaries.ffprobe).toBe(process.env.FFPROBE_PATH);
    console.log(`ffmpeg ${binaries.version}: ${binaries.ffmpeg}, ${binaries.ffprobe}`);
  });
});

describe('an uploaded video becomes an adaptive stream', () => {
  it('landscape 854x480, 12 s, public: ladder at or below the source, playable', async () => {
    const source = { width: 854, height: 480, seconds: 12 };
    const file = await readFile(await makeClip(dir, 'landscape.mp4', source));
    const video = await settled(await upload(file, 'public', 'landscape'));
    expect(video).toMatchObject({ status: 'ready', failureReason: null, width: 854, height: 480 });
    expect(video.durationSeconds).toBeCloseTo(12, 0);
    expect(video.renditions.map((r) => r.name)).toEqual(['480p', '360p', '240p']);
    await expectPlayable(video, source);
  });

  it('portrait 360x640, 10 s, private: stays portrait; unsigned or other users are refused', async () => {
    const source = { width: 360, height: 640, seconds: 10 };
    const file = await readFile(await makeClip(dir, 'portrait.mp4', source));
    const video = await settled(await upload(file, 'private', 'portrait'));
    expect(video).toMatchObject({ status: 'ready', width: 360, height: 640 });
    await expectPlayable(video, source);

    const signed = new URL(video.playback!.hls);
    const unsigned = `${signed.origin}${signed.pathname.replace(/\/t\/[^/]+\//, '/')}`;
    expect((await fetch(unsigned)).status).toBe(403);
    // This video's token does not open another's folder.
    const elsewhere = new URL(signed);
    elsewhere.pathname = signed.pathname.replace(video.id, '00000000-0000-4000-8000-000000000000');
    expect((await fetch(elsewhere)).status).toBe(403);
    // Another user cannot even learn it exists.
    expect((await runtime.api(`/v1/videos/${video.id}`, { token: bob })).status).toBe(404);
  });
});

describe('hostile and broken uploads fail with a reason and read nothing else', () => {
  // A FIFO holding a payload: any process that opens and reads it drains it. An HTTP server that
  // counts requests catches any attempt to fetch a URL.
  const payload = `canary-${process.pid}`;
  let fifo: string;
  let fifoFd: number;
  let server: Server;
  let hits = 0;
  let canaryUrl: string;

  beforeAll(async () => {
    fifo = path.join(dir, 'canary.ts');
    expect((await exec('mkfifo', [fifo])).code).toBe(0);
    fifoFd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(fifoFd, payload);
    server = createServer((_req, res) => {
      hits += 1;
      res.end('#EXTM3U\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    canaryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/canary.ts`;
  });
  afterAll(async () => {
    closeSync(fifoFd);
    await new Promise((resolve) => server.close(resolve));
  });

  function fifoUnread(): boolean {
    const buf = Buffer.alloc(payload.length);
    let n = 0;
    try {
      n = readSync(fifoFd, buf);
    } catch {
      return false; // EAGAIN: empty, someone read it
    }
    if (n > 0) writeSync(fifoFd, buf.subarray(0, n));
    return buf.subarray(0, n).toString() === payload;
  }

  it('every file of the corpus ends failed with a reason a person can act on', async () => {
    const whole = await readFile(await makeClip(dir, 'whole.mp4', { width: 320, height: 180, seconds: 4 }));
    const audioOnly = path.join(dir, 'audio.m4a');
    const { ffmpeg } = await resolveBinaries();
    const made = await exec(ffmpeg, [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=3',
      '-c:a',
      'aac',
      '-y',
      audioOnly,
    ]);
    expect(made.code).toBe(0);
    const corpus: Array<[string, Buffer, RegExp]> = [
      [
        'hls-as-mp4',
        Buffer.from(
          `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nfile://${fifo}\n#EXTINF:4.0,\n${canaryUrl}\n#EXT-X-ENDLIST\n`,
        ),
        // ffmpeg 5.1 detects HLS (the whitelist stops it); newer builds refuse HLS without .m3u8.
        /^not a supported container: |^unreadable: /,
      ],
      [
        'ffconcat',
        Buffer.from(`ffconcat version 1.0\nfile ${fifo}\nfile ${canaryUrl}\n`),
        /^not a supported container: |^unreadable: /,
      ],
      [
        'html',
        Buffer.from(`<!DOCTYPE html><html><body><video src="${canaryUrl}"></video></body></html>\n`),
        /^unreadable: |^unsupported format/,
      ],
      [
        'random',
        Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251)),
        /^unreadable: |^unsupported format/,
      ],
      ['audio-only', await readFile(audioOnly), /^not a video: no video stream found$/],
      [
        'truncated',
        whole.subarray(0, Math.floor(whole.length * 0.3)),
        /^unreadable: |^damaged or truncated: /,
      ],
    ];
    const ids = await Promise.all(corpus.map(([name, bytes]) => upload(bytes, 'private', name)));
    const videos = await Promise.all(ids.map((id) => settled(id)));
    for (const [i, [name, , reason]] of corpus.entries()) {
      expect({ name, status: videos[i]!.status }).toEqual({ name, status: 'failed' });
      expect({ name, reason: videos[i]!.failureReason }).toEqual({
        name,
        reason: expect.stringMatching(reason),
      });
      expect(videos[i]!.playback).toBeNull();
    }
    expect(fifoUnread()).toBe(true);
    expect(hits).toBe(0);
  });
});

describe('files that lie about what they cost are refused before any encode', () => {
  it('a 3h53m Matroska of 120 frames and MJPEG bigger than its 16x16 header: failed within 2 minutes, with a reason, source deleted, nothing queued for ffmpeg', async () => {
    const bombs: Array<[string, string, RegExp]> = [
      [
        'timestamps',
        await makeTimestampBomb(dir, 'bomb-timestamps.mkv'),
        /^declared 3h53m\d*s? but holds 120 frames \(.+; they jump from 4s to 3h53m\d*s?\): timestamps are broken; export the video again$/,
      ],
      [
        'mjpeg-sof',
        await makeMjpegSizeBomb(dir, 'bomb-sof.mov'),
        /^resolution 16000x16000 is over the 7680x4320 limit$|^unreadable: not one frame of the 16x16 video stream could be decoded/,
      ],
      [
        'mjpeg-growing',
        await makeMjpegGrowingBomb(dir, 'bomb-growing.mov'),
        /^resolution 8000x8000 is over the 7680x4320 limit$|^a single frame holds .+ than the file declares/,
      ],
    ];
    const started = Date.now();
    const ids = await Promise.all(
      bombs.map(async ([name, file]) => upload(await readFile(file), 'private', name)),
    );
    const videos = await Promise.all(ids.map((id) => settled(id, 120_000)));
    expect(Date.now() - started).toBeLessThan(120_000);
    const s3 = localS3Client(runtime.s3);
    const queued = runtime.queues
      .sent('transcode')
      .map((body) => (JSON.parse(body) as { videoId: string }).videoId);
    for (const [i, [name, , reason]] of bombs.entries()) {
      const video = videos[i]!;
      expect({ name, status: video.status, reason: video.failureReason }).toEqual({
        name,
        status: 'failed',
        reason: expect.stringMatching(reason),
      });
      expect({ name, queued: queued.includes(video.id) }).toEqual({ name, queued: false });
      const head = s3.send(
        new HeadObjectCommand({ Bucket: LOCAL_RESOURCES.uploadsBucket, Key: `uploads/${video.id}/source` }),
      );
      await expect(head).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }
  });
});
