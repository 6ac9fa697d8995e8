/**
 * Chunked parallel transcoding end to end on the local stack (one worker per core): a 30 s source in
 * 8 s chunks is eight video jobs (four chunks, each in two rung groups: 360p | 240p) plus four audio
 * chunk jobs (8 s audio chunks here); the stitched
 * ladder plays as one stream per rung (one init segment, globally numbered segments), its decode and
 * presentation times continue across every join (ffprobe over the whole concatenated rendition), each
 * rung's audio rendition (one per audio bitrate) is one gapless track as long as the source whose samples
 * are the source's across every audio join, progress rises from 0 to 1 while it works, and duplicated job
 * messages change nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedKysely } from '#adapters/db/connect.ts';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { until } from '#test/helpers/eventually.ts';
import { exec, makeClip } from '#test/helpers/media.ts';
import { startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { type ApiVideo, settledVideo, uploadVideo } from '#test/helpers/upload.ts';

const CHUNK_SECONDS = 8;
/** 4 chunks x 2 rung groups (360p | 240p) + 4 audio chunks. */
const JOBS = 12;
const AAC_FRAME = 1024 / 48_000;
const SOURCE = { width: 640, height: 360, seconds: 30 };

let runtime: TestRuntime;
let dir: string;
let alice: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chunked-e2e-'));
  process.env.TRANSCODE_CHUNK_SECONDS = String(CHUNK_SECONDS);
  process.env.TRANSCODE_AUDIO_CHUNK_SECONDS = String(CHUNK_SECONDS);
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  delete process.env.TRANSCODE_CHUNK_SECONDS;
  delete process.env.TRANSCODE_AUDIO_CHUNK_SECONDS;
  await rm(dir, { recursive: true, force: true });
}, 30_000);

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} -> ${response.status}`);
  return response;
}
const fetchText = async (url: string) => (await fetchOk(url)).text();
const fetchBytes = async (url: string) => Buffer.from(await (await fetchOk(url)).arrayBuffer());
const child = (parent: string, uri: string) => new URL(uri, parent).toString();
const uris = (playlist: string) => playlist.split('\n').filter((line) => line && !line.startsWith('#'));
const extinfs = (playlist: string) =>
  [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number.parseFloat(m[1]!));

/** A whole rendition as one file: its init segment and every media segment, as a player appends them. */
async function wholeRendition(playlistUrl: string, name: string) {
  const playlist = await fetchText(playlistUrl);
  expect(playlist).toMatch(/#EXT-X-ENDLIST/);
  expect(playlist.match(/#EXT-X-MAP:/g)).toHaveLength(1);
  expect(playlist).not.toMatch(/#EXT-X-DISCONTINUITY/);
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
  const parts = await Promise.all(
    [init, ...uris(playlist)].map((uri) => fetchBytes(child(playlistUrl, uri))),
  );
  const file = path.join(dir, `${name}.mp4`);
  await writeFile(file, Buffer.concat(parts));
  return { playlist, file };
}

interface Packet {
  pts: number;
  dts: number;
  key: boolean;
}

async function packets(file: string, stream: 'v' | 'a'): Promise<Packet[]> {
  const { ffprobe } = await resolveBinaries();
  const out = await exec(ffprobe, [
    '-v',
    'error',
    '-select_streams',
    stream,
    '-show_entries',
    'packet=pts_time,dts_time,flags',
    '-of',
    'csv=p=0',
    file,
  ]);
  if (out.code !== 0) throw new Error(out.stderr);
  return (
    out.stdout
      .trim()
      .split('\n')
      // The 2018 static ffprobe prints an empty line after a packet with side data (AAC priming skip).
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [pts, dts, flags] = line.split(',');
        return { pts: Number(pts), dts: Number(dts), key: (flags ?? '').includes('K') };
      })
  );
}

async function decodedSeconds(file: string): Promise<number> {
  const { ffprobe } = await resolveBinaries();
  const out = await exec(ffprobe, [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    file,
  ]);
  if (out.code !== 0) throw new Error(out.stderr);
  return Number.parseFloat(out.stdout);
}

/** Decoded audio as 48 kHz mono float samples. */
async function pcm(file: string): Promise<Float32Array> {
  const { ffmpeg } = await resolveBinaries();
  const out = `${file}.f32`;
  const run = await exec(ffmpeg, [
    '-v',
    'error',
    '-y',
    '-i',
    file,
    '-vn',
    '-ac',
    '1',
    '-ar',
    '48000',
    '-f',
    'f32le',
    out,
  ]);
  if (run.code !== 0) throw new Error(run.stderr);
  const bytes = await readFile(out);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

const mediaObjects = async (videoId: string) =>
  (
    (
      await localS3Client(runtime.s3).send(
        new ListObjectsV2Command({ Bucket: LOCAL_RESOURCES.mediaBucket, Prefix: `videos/${videoId}/` }),
      )
    ).Contents ?? []
  )
    .map((o) => [o.Key, o.LastModified?.getTime(), o.Size] as const)
    .sort();

const jobMessages = (videoId: string) =>
  runtime.queues
    .sent('transcode')
    .filter((body) => (JSON.parse(body) as { videoId: string }).videoId === videoId);

describe('a source longer than a chunk is transcoded as parallel chunk jobs and stitched', () => {
  let video: ApiVideo;
  let videoId: string;
  let sourceFile: string;
  const progress: number[] = [];

  beforeAll(async () => {
    const file = await makeClip(dir, 'long.mp4', SOURCE);
    sourceFile = file;
    videoId = await uploadVideo(
      runtime,
      alice,
      await import('node:fs/promises').then((fs) => fs.readFile(file)),
      {
        visibility: 'public',
        title: 'chunked',
        downloads: 'all',
      },
    );
    // Every job message delivered twice, while the video is processing: counted once, stitched once.
    await until(() => jobMessages(videoId).length >= JOBS, {
      timeoutMs: 60_000,
      what: 'the jobs to be queued',
    });
    for (const body of jobMessages(videoId)) runtime.queues.send('transcode', body);
    // Progress as a client polling the video sees it.
    for (;;) {
      const current = (await (
        await runtime.api(`/v1/videos/${videoId}`, { token: alice })
      ).json()) as ApiVideo & {
        progress?: number | null;
      };
      if (current.status !== 'processing') {
        expect(current).not.toHaveProperty('progress');
        break;
      }
      if (typeof current.progress === 'number') progress.push(current.progress);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    video = await settledVideo(runtime, alice, videoId, 180_000);
    // The duplicates still running when the original landed finish (and change nothing) first.
    await until(() => runtime.queues.depth('transcode') === 0, {
      timeoutMs: 120_000,
      what: 'duplicates to finish',
    });
  }, 300_000);

  it('plans 4 video chunks x 2 rung groups + 4 audio chunks, every job message on the transcode queue', () => {
    const jobs = jobMessages(videoId)
      .map((body) => (JSON.parse(body) as { job: number }).job)
      .sort((a, b) => a - b);
    expect([...new Set(jobs)]).toEqual(Array.from({ length: JOBS }, (_, job) => job));
  });

  it('is ready with the ladder, counted once per job', async () => {
    expect(video).toMatchObject({ status: 'ready', failureReason: null, width: 640, height: 360 });
    expect(video.renditions.map((r) => r.name)).toEqual(['360p', '240p']);
    const row = await (await sharedKysely())
      .selectFrom('videos')
      .select(['transcode_jobs_done', 'transcode_jobs_total'])
      .where('id', '=', videoId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ transcode_jobs_done: JOBS, transcode_jobs_total: JOBS });
  });

  it('progress rose from 0 towards 1 while processing, never backwards', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!).toBeLessThan(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    for (const p of progress) expect(p).toBeGreaterThanOrEqual(0);
    expect(new Set(progress).size).toBeGreaterThan(1);
  });

  it('plays as one continuous stream per rung: monotonic timestamps across every join, keyframe on every segment, A/V durations match', async () => {
    const masterUrl = video.playback!.hls;
    const master = await fetchText(masterUrl);
    // One audio group per audio bitrate: 360p plays with 96 kb/s, 240p with 64 kb/s (as the ladder plans).
    const groups = new Map(
      [...master.matchAll(/#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="([^"]+)",[^\n]*URI="([^"]+)"/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    expect([...groups.keys()]).toEqual(['audio-96k', 'audio-64k']);
    const variants = master
      .split('\n')
      .flatMap((line, i, lines) =>
        line.startsWith('#EXT-X-STREAM-INF:') ? [{ line, uri: lines[i + 1]! }] : [],
      );
    expect(variants).toHaveLength(2);
    const reference = await pcm(sourceFile);
    for (const variant of variants) {
      expect(variant.line).toMatch(/BANDWIDTH=\d+/);
      expect(variant.line).toMatch(/AVERAGE-BANDWIDTH=\d+/);
      expect(variant.line).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/);
      expect(variant.line).toMatch(/FRAME-RATE=30\.000/);
      const group = /AUDIO="([^"]+)"/.exec(variant.line)?.[1];
      expect(group).toBe(variant.uri.startsWith('360p') ? 'audio-96k' : 'audio-64k');
      const audio = await wholeRendition(child(masterUrl, groups.get(group!)!), `${videoId}-${group}`);
      const audioPackets = await packets(audio.file, 'a');
      // The first packet is the encoder's priming frame, which the edit list puts before 0; then every
      // AAC frame follows the one before by exactly one frame, across every join: no gap, no overlap.
      expect(audioPackets[0]!.pts).toBeCloseTo(-AAC_FRAME, 5);
      for (let i = 1; i < audioPackets.length; i++) {
        expect({
          i,
          step: Math.round(((audioPackets[i]!.pts - audioPackets[i - 1]!.pts) / AAC_FRAME) * 1000) / 1000,
        }).toEqual({ i, step: 1 });
      }
      // As long as the source to within one frame, presentation starting at 0 with the video's first frame.
      const audioEnd = audioPackets.at(-1)!.pts + AAC_FRAME;
      expect(Math.abs(audioEnd - SOURCE.seconds)).toBeLessThanOrEqual(AAC_FRAME);
      // And the samples are the source's: decoded (the decoder keeps the priming samples the edit list
      // skips, so they are dropped here), the stitched track differs from the source's decoded audio by
      // AAC's noise only, in every 1024-sample block. A frame lost, doubled or misplaced at any join, a
      // click, or audio shifted against the video by a frame is a difference of the tone's size (0.1+).
      const decoded = (await pcm(audio.file)).subarray(Math.round(-audioPackets[0]!.pts * 48_000));
      const blocks = Math.floor(Math.min(decoded.length, reference.length) / 1024);
      expect(blocks).toBeGreaterThanOrEqual(Math.floor((SOURCE.seconds * 48_000) / 1024) - 1);
      let worst = { block: -1, rms: 0 };
      for (let b = 0; b < blocks; b++) {
        let sum = 0;
        for (let i = b * 1024; i < (b + 1) * 1024; i++) sum += (decoded[i]! - reference[i]!) ** 2;
        const rms = Math.sqrt(sum / 1024);
        if (rms > worst.rms) worst = { block: b, rms };
      }
      expect(worst.rms).toBeLessThan(0.02);
      const audioSeconds = await decodedSeconds(audio.file);
      const { playlist, file } = await wholeRendition(
        child(masterUrl, variant.uri),
        `${videoId}-${variant.uri.split('/')[0]}`,
      );
      const durations = extinfs(playlist);
      // 30 s of 4 s segments, numbered 0..7 across the four chunks.
      expect(uris(playlist)).toEqual(
        Array.from({ length: 8 }, (_, i) => `seg_${String(i).padStart(5, '0')}.m4s`),
      );
      expect(Math.abs(durations.reduce((a, b) => a + b, 0) - SOURCE.seconds)).toBeLessThanOrEqual(0.25);
      const frames = await packets(file, 'v');
      expect(frames).toHaveLength(SOURCE.seconds * 30);
      // Decode times strictly increase by one frame, across every join.
      for (let i = 1; i < frames.length; i++) {
        expect({ i, step: Math.round((frames[i]!.dts - frames[i - 1]!.dts) * 30 * 100) / 100 }).toEqual({
          i,
          step: 1,
        });
      }
      // Presentation times cover every frame slot once: no gap, no overlap at the joins.
      const pts = frames.map((f) => Math.round(f.pts * 30)).sort((a, b) => a - b);
      expect(pts).toEqual(pts.map((_, i) => pts[0]! + i));
      // An IDR at every segment start (4 s = 120 frames), in decode order.
      const keys = frames.flatMap((f, i) => (f.key ? [i] : []));
      expect(keys).toEqual(Array.from({ length: 8 }, (_, i) => i * 120));
      const videoSeconds = await decodedSeconds(file);
      expect(Math.abs(videoSeconds - audioSeconds)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(frames[0]!.dts - audioPackets[0]!.dts)).toBeLessThanOrEqual(0.1);
      // A/V in sync: the first audio sample presented is at 0, with the first video frame.
      expect(audioPackets[1]!.pts).toBeCloseTo(0, 5);
    }
  });

  /** The video once the derivatives worker has made its storyboard and every download. */
  const derived = async () => {
    let now: ApiVideo & {
      playback: { storyboard?: string | null } | null;
      downloads: Array<{ url: string; name: string }>;
    };
    await until(
      async () => {
        now = (await (await runtime.api(`/v1/videos/${videoId}`, { token: alice })).json()) as typeof now;
        return (now.playback?.storyboard ?? null) !== null && now.downloads.length === now.renditions.length;
      },
      { timeoutMs: 180_000, what: 'the storyboard and every download' },
    );
    return now!;
  };

  it('makes each MP4 download with the audio its variant plays (the renditions are video only)', async () => {
    const { downloads } = await derived();
    for (const download of downloads) {
      const file = path.join(dir, `download-${download.name}.mp4`);
      await writeFile(file, await fetchBytes(download.url));
      const { ffprobe } = await resolveBinaries();
      const info = JSON.parse(
        (await exec(ffprobe, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file])).stdout,
      ) as {
        format: { duration: string };
        streams: Array<{ codec_type: string; codec_name: string; duration?: string }>;
      };
      expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual([
        'audio:aac',
        'video:h264',
      ]);
      const audio = info.streams.find((s) => s.codec_type === 'audio')!;
      expect(Number(audio.duration)).toBeGreaterThan(SOURCE.seconds - 0.1);
      expect(Number(audio.duration)).toBeLessThan(SOURCE.seconds + 0.1);
    }
  });

  it('a duplicated job message after the video is ready changes nothing', async () => {
    // The derivatives worker adds the storyboard and downloads once the video is ready: wait for them,
    // so the listing below is what the pipeline leaves for good.
    await derived();
    const before = await mediaObjects(videoId);
    for (const job of [0, 2, 4, 7]) runtime.queues.send('transcode', JSON.stringify({ videoId, job }));
    await until(() => runtime.queues.depth('transcode') === 0, {
      timeoutMs: 30_000,
      what: 'the duplicates to be taken',
    });
    // The duplicates are taken and acknowledged (no retry, nothing dead-lettered) ...
    await until(
      () => runtime.queues.depth('transcode') === 0 && runtime.queues.depth('transcode-dlq') === 0,
      {
        timeoutMs: 30_000,
        what: 'the transcode queue to drain',
      },
    );
    expect(await mediaObjects(videoId)).toEqual(before);
    const after = (await (await runtime.api(`/v1/videos/${videoId}`, { token: alice })).json()) as ApiVideo;
    expect(after.status).toBe('ready');
  });
});
