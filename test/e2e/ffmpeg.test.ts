/**
 * The ffmpeg adapter against real ffmpeg/ffprobe: sources are generated here (testsrc2 + sine, ultrafast),
 * hostile inputs too (nothing binary is committed). Sizes are small so the file runs in about a minute on
 * 2 cores; the 1280x720 landscape run uses the production preset, the others ultrafast.
 */

import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { access, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Binaries, resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { parseMediaPlaylist, type TranscodeResult, transcodeToHls } from '#adapters/ffmpeg/hls.ts';
import { probe } from '#adapters/ffmpeg/probe.ts';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { planLadder, type TranscodePlan } from '#core/media/ladder.ts';
import { type SourceFacts, validateSource } from '#core/media/probe.ts';
import { exec, makeClip as makeTestClip } from '#test/helpers/media.ts';

const STATIC_FFMPEG = path.resolve('node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
const ACCEPTED = '(accepted: MP4/MOV, Matroska/WebM)';

let dir: string;
let binaries: Binaries;

async function ffmpeg(args: string[]): Promise<void> {
  const out = await exec(binaries.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
  if (out.code !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${out.stderr}`);
}

/** A testsrc2 + 440 Hz clip in this file's temp dir; `extra` goes before the output. */
const makeClip = (name: string, width: number, height: number, seconds: number, extra: string[] = []) =>
  makeTestClip(dir, name, { width, height, seconds, extra });

async function validated(file: string): Promise<SourceFacts> {
  const result = validateSource(await probe(file, { binaries }));
  if (!result.ok) throw new Error(result.reason);
  return result.source;
}

async function ffprobeJson(file: string, extra: string[]): Promise<Record<string, unknown>> {
  const out = await exec(binaries.ffprobe, ['-v', 'error', '-print_format', 'json', ...extra, file]);
  if (out.code !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

interface StreamInf {
  resolution: [number, number];
  uri: string;
  bandwidth: number;
  line: string;
}

function parseMaster(text: string): StreamInf[] {
  const lines = text.split('\n');
  return lines.flatMap((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF:')) return [];
    const [w, h] = /RESOLUTION=(\d+)x(\d+)/.exec(line)!.slice(1).map(Number) as [number, number];
    return [
      {
        resolution: [w, h],
        uri: lines[i + 1]!,
        bandwidth: Number(/[:,]BANDWIDTH=(\d+)/.exec(line)![1]),
        line,
      },
    ];
  });
}

/**
 * What every good ladder must satisfy: at or below the source, orientation kept, every variant as long as
 * the source, every segment decodable and starting on a keyframe, segments aligned across renditions,
 * poster a JPEG at the top rung size, master written last.
 */
async function expectPlayableLadder(result: TranscodeResult, src: SourceFacts, plan: TranscodePlan) {
  const master = await readFile(result.masterPath, 'utf8');
  expect(master.startsWith('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n')).toBe(true);
  const variants = parseMaster(master);
  expect(variants.map((v) => v.resolution)).toEqual(
    plan.renditions.map((r) => [r.width, r.height]).reverse(),
  );
  for (const { resolution, line } of variants) {
    const [w, h] = resolution;
    expect(w).toBeLessThanOrEqual(src.width);
    expect(h).toBeLessThanOrEqual(src.height);
    expect(w > h).toBe(src.width > src.height);
    expect(line).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",FRAME-RATE=\d+\.\d{3}$/);
  }

  const extinfs: number[][] = [];
  for (const v of variants) {
    const { line } = v;
    const playlistPath = path.join(path.dirname(result.masterPath), v.uri);
    const playlist = parseMediaPlaylist(await readFile(playlistPath, 'utf8'));
    const total = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(Math.abs(total - src.durationSeconds)).toBeLessThanOrEqual(0.25);
    extinfs.push(playlist.segments.map((s) => s.duration));

    // The whole variant decodes without a single error, at the advertised size.
    const decode = await exec(binaries.ffmpeg, ['-v', 'error', '-i', playlistPath, '-f', 'null', '-']);
    expect({ code: decode.code, stderr: decode.stderr }).toEqual({ code: 0, stderr: '' });

    // The CODECS we publish is what the encoder wrote: avcC's profile, constraint flags and level bytes.
    const variantDir = path.dirname(playlistPath);
    const init = await readFile(path.join(variantDir, 'init.mp4'));
    const avcC = init.indexOf('avcC');
    expect(line).toContain(`CODECS="avc1.${init.subarray(avcC + 5, avcC + 8).toString('hex')},`);

    // A segment from the middle decodes on its own (init + segment) and starts with a keyframe.
    const seg = playlist.segments[Math.floor(playlist.segments.length / 2)]!;
    const alone = path.join(variantDir, 'alone.mp4');
    await writeFile(
      alone,
      Buffer.concat([
        await readFile(path.join(variantDir, 'init.mp4')),
        await readFile(path.join(variantDir, seg.uri)),
      ]),
    );
    const frames = (await ffprobeJson(alone, [
      '-select_streams',
      'v:0',
      '-show_frames',
      '-read_intervals',
      '%+#1',
      '-show_entries',
      'frame=key_frame,width,height',
    ])) as { frames: Array<{ key_frame: number; width: number; height: number }> };
    expect(frames.frames[0]).toMatchObject({ key_frame: 1, width: v.resolution[0], height: v.resolution[1] });
    await rm(alone);
  }
  // Same segment boundaries in every rendition: a player can switch at any of them.
  for (const list of extinfs) expect(list).toEqual(extinfs[0]);

  const poster = await readFile(result.posterPath);
  expect(poster.subarray(0, 3).toString('hex')).toBe('ffd8ff');
  const posterInfo = (await ffprobeJson(result.posterPath, ['-show_streams'])) as {
    streams: Array<{ width: number; height: number }>;
  };
  expect(posterInfo.streams[0]).toMatchObject({ width: plan.poster.width, height: plan.poster.height });
  const thumb = (await ffprobeJson(result.thumbnailPath, ['-show_streams'])) as {
    streams: Array<{ width: number }>;
  };
  expect(thumb.streams[0]?.width).toBe(Math.min(320, plan.poster.width));

  // The master is the last thing written.
  const masterTime = (await stat(result.masterPath)).mtimeMs;
  for (const r of result.renditions) {
    for (const f of await readdir(r.directory)) {
      expect((await stat(path.join(r.directory, f))).mtimeMs).toBeLessThanOrEqual(masterTime);
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'videocloud-ffmpeg-'));
  binaries = await resolveBinaries();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveBinaries', () => {
  it('finds ffmpeg and ffprobe and reports the version', () => {
    expect(binaries.ffmpeg).toMatch(/ffmpeg$/);
    expect(binaries.ffprobe).toMatch(/ffprobe$/);
    expect(binaries.version).toMatch(/\S/);
  });
});

describe('probe -> validate -> plan -> transcode', () => {
  it('1280x720 landscape: full ladder from 720p down, production preset', async () => {
    const input = await makeClip('landscape.mp4', 1280, 720, 10);
    const src = await validated(input);
    expect(src).toMatchObject({
      container: 'mov',
      width: 1280,
      height: 720,
      hasAudio: true,
      videoCodec: 'h264',
    });
    const plan = planLadder(src);
    expect(plan.renditions.map((r) => r.name)).toEqual(['720p', '480p', '360p', '240p']);

    const ready: string[] = [];
    const result = await transcodeToHls({
      input,
      container: src.container,
      plan,
      outputDir: path.join(dir, 'out-landscape'),
      onRenditionReady: async (r) => {
        // The variant is complete by the time we hear about it, and the master does not exist yet.
        expect(parseMediaPlaylist(await readFile(r.playlistPath, 'utf8')).ended).toBe(true);
        await expect(access(path.join(dir, 'out-landscape', 'master.m3u8'))).rejects.toThrow();
        ready.push(r.name);
      },
    });
    expect(ready.sort()).toEqual(['240p', '360p', '480p', '720p']);
    expect(result.renditions.map((r) => r.name)).toEqual(['720p', '480p', '360p', '240p']);
    for (const r of result.renditions) expect(r.bitrate).toBeGreaterThan(0);
    // At the production preset the stream is exactly the High profile and level the plan declared.
    expect(result.renditions.map((r) => r.codecs)).toEqual(plan.renditions.map((r) => r.codecs));
    await expectPlayableLadder(result, src, plan);
  }, 180_000);

  it('720x1280 portrait stays portrait', async () => {
    const input = await makeClip('portrait.mp4', 720, 1280, 10);
    const src = await validated(input);
    const plan = planLadder(src);
    const result = await transcodeToHls({
      input,
      container: src.container,
      plan,
      outputDir: path.join(dir, 'out-portrait'),
      preset: 'ultrafast',
    });
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).toEqual([
      '720x1280',
      '480x854',
      '360x640',
      '240x426',
    ]);
    await expectPlayableLadder(result, src, plan);
  }, 120_000);

  it('a rotated landscape phone clip comes out upright portrait', async () => {
    const flat = await makeClip('flat.mp4', 640, 360, 4);
    const rotated = path.join(dir, 'rotated.mp4');
    // ffmpeg 5 writes the display matrix from the rotate tag; 6+ takes -display_rotation on the input.
    await ffmpeg(['-i', flat, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    let src = await validated(rotated);
    if (src.width > src.height) {
      await ffmpeg(['-display_rotation', '90', '-i', flat, '-c', 'copy', rotated]);
      src = await validated(rotated);
    }
    expect([src.width, src.height]).toEqual([360, 640]);
    const plan = planLadder(src);
    const result = await transcodeToHls({
      input: rotated,
      container: src.container,
      plan,
      outputDir: path.join(dir, 'out-rotated'),
      preset: 'ultrafast',
    });
    expect(result.renditions.map((r) => `${r.width}x${r.height}`)).toEqual(['360x640', '240x426']);
    await expectPlayableLadder(result, src, plan);
  }, 30_000);

  it('reads one http URL (range requests) with only the network protocols allowed', async () => {
    const file = await makeClip('served.mp4', 640, 360, 4);
    const server = await serveFile(file);
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}/served.mp4?X-Amz-Signature=secret`;
      const result = validateSource(await probe(url, { binaries }));
      if (!result.ok) throw new Error(result.reason);
      const plan = planLadder(result.source);
      const out = await transcodeToHls({
        input: url,
        container: result.source.container,
        plan,
        outputDir: path.join(dir, 'out-http'),
        preset: 'ultrafast',
      });
      expect(out.renditions.map((r) => r.name)).toEqual(['360p', '240p']);
      // A refused presigned URL is ours to retry, and its signature never reaches a message or a log.
      const refused = await probe(`http://127.0.0.1:${port}/missing.mp4?X-Amz-Signature=secret`, {
        binaries,
      }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(MediaToolError);
      expect((refused as Error).message).toMatch(/^could not read the source: .*403/);
      expect((refused as Error).message).not.toContain('secret');
    } finally {
      server.close();
    }
  }, 30_000);

  const staticBuild = process.platform === 'linux' && process.arch === 'x64' ? it : it.skip;
  staticBuild(
    'the npm 2018 static ffmpeg makes the same ladder (no -var_stream_map)',
    async () => {
      await access(STATIC_FFMPEG, constants.X_OK);
      const input = await makeClip('static.mp4', 640, 360, 10);
      const src = await validated(input);
      const plan = planLadder(src);
      const staticBinaries = { ...binaries, ffmpeg: STATIC_FFMPEG };
      const result = await transcodeToHls({
        input,
        container: src.container,
        plan,
        outputDir: path.join(dir, 'out-static'),
        preset: 'ultrafast',
        binaries: staticBinaries,
      });
      expect(result.renditions.map((r) => r.name)).toEqual(['360p', '240p']);
      await expectPlayableLadder(result, src, plan);
    },
    60_000,
  );
});

describe('hostile and broken inputs', () => {
  // A FIFO holding a payload, kept open read-write by the test: opening it never blocks, and whatever
  // opens and reads it drains the payload. If the payload is still there, nothing read the canary.
  const payload = `canary-${process.pid}-${Date.now()}`;
  let canary: string;
  let canaryFd: number;

  beforeAll(async () => {
    canary = path.join(dir, 'canary.ts');
    const made = await exec('mkfifo', [canary]);
    if (made.code !== 0) throw new Error(made.stderr);
    canaryFd = openSync(canary, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(canaryFd, payload);
  });

  afterAll(() => {
    closeSync(canaryFd);
  });

  function canaryUnread(): boolean {
    const buf = Buffer.alloc(payload.length + 16);
    let n = 0;
    try {
      n = readSync(canaryFd, buf);
    } catch {
      return false; // EAGAIN: drained
    }
    const intact = buf.subarray(0, n).toString() === payload;
    if (n > 0) writeSync(canaryFd, buf.subarray(0, n)); // put it back for the next check
    return intact;
  }

  async function hostile(name: string, content: string | Buffer): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  }

  async function rejection(file: string): Promise<string> {
    try {
      const result = validateSource(await probe(file, { binaries, timeoutMs: 10_000 }));
      if (result.ok) throw new Error(`${path.basename(file)} was accepted`);
      return result.reason;
    } catch (err) {
      // A timeout would mean ffprobe blocked on something; only the file's own fault is an answer here.
      expect(err).toBeInstanceOf(MediaRejectedError);
      return (err as Error).message;
    }
  }

  it('an HLS playlist named .mp4 pointing at a local file', async () => {
    const file = await hostile(
      'playlist.mp4',
      `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nfile://${canary}\n#EXT-X-ENDLIST\n`,
    );
    const reason = await rejection(file);
    // ffmpeg 5.1 detects it as HLS (and the whitelist stops it); newer builds refuse HLS without .m3u8.
    expect([`not a supported container: found 'hls' ${ACCEPTED}`, 'unreadable']).toContain(
      reason.startsWith('unreadable: ') ? 'unreadable' : reason,
    );
    // The forced demuxer refuses it as well, should it ever reach the encoder: the file's fault, for good.
    const plan = planLadder(await validated(await makeClip('tiny.mp4', 320, 240, 1)));
    await expect(
      transcodeToHls({
        input: file,
        container: 'mov',
        plan,
        outputDir: path.join(dir, 'out-hostile'),
        preset: 'ultrafast',
      }),
    ).rejects.toThrow(/^could not be decoded: .+; export it again/);
    expect(canaryUnread()).toBe(true);
  }, 20_000);

  it('an ffconcat script naming the canary', async () => {
    const file = await hostile('concat.mp4', 'ffconcat version 1.0\nfile canary.ts\n');
    expect(await rejection(file)).toMatch(/^(not a supported container: found 'concat'|unreadable: )/);
    expect(canaryUnread()).toBe(true);
  });

  it('an AVI (its GAB2 subtitle chunks can embed a playlist) is refused before its demuxer runs', async () => {
    const file = path.join(dir, 'clip.avi');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=1', '-c:v', 'mjpeg', file]);
    const renamed = path.join(dir, 'clip-avi.mp4');
    await copyFile(file, renamed);
    expect(await rejection(file)).toBe(`not a supported container: found 'avi' ${ACCEPTED}`);
    expect(await rejection(renamed)).toMatch(/^(not a supported container: found 'avi'|unreadable: )/);
  });

  it('HTML, random bytes, and an empty file', async () => {
    const html = await hostile(
      'page.mp4',
      `<!DOCTYPE html><html><body><img src="file://${canary}"></body></html>\n`,
    );
    const random = await hostile(
      'random.mp4',
      Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 251)),
    );
    const empty = await hostile('empty.mov', '');
    for (const file of [html, random, empty]) expect(await rejection(file)).toMatch(/^unreadable: /);
    expect(canaryUnread()).toBe(true);
  });

  it('an audio-only M4A', async () => {
    const file = path.join(dir, 'song.m4a');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', file]);
    expect(await rejection(file)).toBe('not a video: no video stream found');
  });

  it('a truncated MP4 (first 30%, index at the end)', async () => {
    const whole = await readFile(await makeClip('whole.mp4', 640, 360, 6));
    const file = await hostile('truncated.mp4', whole.subarray(0, Math.floor(whole.length * 0.3)));
    expect(await rejection(file)).toMatch(/^unreadable: the MP4\/MOV file is incomplete or damaged/);
  });

  it('a truncated fast-start MP4 probes fine but fails the transcode with a reason', async () => {
    const whole = await readFile(await makeClip('faststart.mp4', 640, 360, 10, ['-movflags', '+faststart']));
    const file = await hostile('truncated-fs.mp4', whole.subarray(0, Math.floor(whole.length * 0.3)));
    const src = await validated(file);
    expect(src.durationSeconds).toBe(10);
    await expect(
      transcodeToHls({
        input: file,
        container: src.container,
        plan: planLadder(src),
        outputDir: path.join(dir, 'out-truncated'),
        preset: 'ultrafast',
      }),
    ).rejects.toThrow(
      /^damaged or truncated: only \ds of its 10s could be decoded; upload the complete file again$/,
    );
  }, 30_000);

  it('the canary is real: ffprobe without our whitelists does read it', async () => {
    const file = await hostile(
      'control.m3u8',
      `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nfile://${canary}\n#EXT-X-ENDLIST\n`,
    );
    expect(canaryUnread()).toBe(true);
    await exec(binaries.ffprobe, ['-v', 'error', '-show_format', file], 3_000);
    expect(canaryUnread()).toBe(false);
  });
});

/** A static file server with byte ranges, as S3 answers presigned GETs. */
function serveFile(file: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (!req.url?.startsWith(`/${path.basename(file)}?`)) {
      res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    const body = await readFile(file);
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!range) {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' }).end(body);
      return;
    }
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
    res
      .writeHead(206, {
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${body.length}`,
        'Accept-Ranges': 'bytes',
      })
      .end(body.subarray(start, end + 1));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
