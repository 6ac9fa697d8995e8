/**
 * `playback.hls` in other people's players, with nothing but the URL: the ffprobe and ffmpeg on PATH
 * (Debian's, an outside client, not the pipeline's binaries), and in Debian's Chromium, on a page of a
 * *different origin*, hls.js with its default config, Shaka Player, video.js (VHS) and the browser's native
 * HLS (`<video src>`, as Safari plays it), each past 2 s of playback, for a public, an unlisted and a
 * private video. No loader, no cookie, no query copying: the
 * access travels in the path, through ordinary relative-URI resolution.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium } from 'playwright-core';
import { eventually } from '#test/helpers/eventually.ts';
import { exec, makeClip } from '#test/helpers/media.ts';
import { startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { settledVideo, uploadVideo } from '#test/helpers/upload.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const VISIBILITIES = ['public', 'unlisted', 'private'] as const;
const SECONDS = 8;
/** An SRT caption every video gets; its first cue is on screen from 0.5 s to 4 s. */
const CAPTION =
  '1\n00:00:00,500 --> 00:00:04,000\nHello from the captions\n\n2\n00:00:04,500 --> 00:00:07,000\nStill here\n';

/** The players' own builds, as a site embedding them would load them. */
const LIBRARIES: Record<string, string> = {
  '/lib/hls.min.js': 'node_modules/hls.js/dist/hls.min.js',
  '/lib/shaka-player.compiled.js': 'node_modules/shaka-player/dist/shaka-player.compiled.js',
  '/lib/video.min.js': 'node_modules/video.js/dist/video.min.js',
};

/** A page on another origin that plays `src` with one player's defaults and reports time and errors. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>embed</title>
<video id="v" muted playsinline class="video-js" width="640" height="360"></video>
<script>
window.state = { time: 0, error: null, tracks: [] };
const params = new URLSearchParams(location.search);
const src = params.get('src');
const kind = params.get('player');
function load(file) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = file; s.onload = resolve; s.onerror = () => reject(new Error('could not load ' + file));
    document.head.appendChild(s);
  });
}
// Cues the player handed to the browser's text tracks, whichever player it is.
window.cueTexts = () => {
  const cues = [];
  for (const media of Array.from(document.querySelectorAll('video'))) {
    for (const track of Array.from(media.textTracks)) {
      if (track.mode === 'disabled' || !track.cues) continue;
      for (const cue of Array.from(track.cues)) cues.push(cue.text);
    }
  }
  return cues;
};
function watch(media) {
  media.addEventListener('timeupdate', () => { state.time = media.currentTime; });
  media.addEventListener('error', () => { state.error = 'media error ' + (media.error && media.error.code); });
}
async function start() {
  const v = document.getElementById('v');
  if (kind === 'hls.js') {
    await load('/lib/hls.min.js');
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) state.error = 'hls.js: ' + d.details; });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_e, d) => {
      state.tracks = d.subtitleTracks.map((t) => t.name + '|' + t.lang);
      // Chosen once hls.js has taken the list in (setting it inside the event is too early).
      if (d.subtitleTracks.length > 0) setTimeout(() => { hls.subtitleDisplay = true; hls.subtitleTrack = 0; }, 0);
    });
    watch(v); hls.loadSource(src); hls.attachMedia(v); await v.play();
  } else if (kind === 'shaka') {
    await load('/lib/shaka-player.compiled.js');
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    await player.attach(v);
    player.addEventListener('error', (e) => { state.error = 'shaka: ' + e.detail.code; });
    // How a site turns captions on in Shaka: a preferred language before load (selecting a track right
    // after load races Shaka's own text streaming and sometimes shows nothing).
    player.configure({ preferredTextLanguage: 'en' });
    watch(v); await player.load(src);
    state.tracks = player.getTextTracks().map((t) => t.label + '|' + t.language);
    await v.play();
  } else if (kind === 'native') {
    // The browser's own HLS, as Safari/AVPlayer and (here) Chromium play it: no library at all.
    if (!v.canPlayType('application/vnd.apple.mpegurl')) throw new Error('no native HLS in this browser');
    watch(v); v.src = src; await v.play();
  } else if (kind === 'video.js') {
    await load('/lib/video.min.js');
    const player = videojs(v, { muted: true });
    player.on('timeupdate', () => { state.time = player.currentTime(); });
    player.on('error', () => { state.error = 'video.js: ' + JSON.stringify(player.error()); });
    player.src({ src, type: 'application/x-mpegURL' });
    await player.play();
  }
}
start().catch((e) => { state.error = String(e && e.message || e); });
</script>`;

let runtime: TestRuntime;
let dir: string;
let alice: string;
let pageServer: Server;
let pageOrigin: string;
let browser: Browser;
const urls = new Map<(typeof VISIBILITIES)[number], string>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'players-'));
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
  const clip = await readFile(await makeClip(dir, 'clip.mp4', { width: 640, height: 360, seconds: SECONDS }));
  const ids = await Promise.all(
    VISIBILITIES.map((visibility) => uploadVideo(runtime, alice, clip, { visibility, title: visibility })),
  );
  for (const [i, visibility] of VISIBILITIES.entries()) {
    const video = await settledVideo(runtime, alice, ids[i]!);
    if (video.status !== 'ready')
      throw new Error(`${visibility} video ${video.status}: ${video.failureReason}`);
    await addCaption(video.id);
    urls.set(visibility, video.playback!.hls);
  }
  // The embedding site: 127.0.0.1 while the media are served from localhost, so every fetch is cross-origin.
  pageServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page.test');
    const library = LIBRARIES[url.pathname];
    if (library) {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(readFileSync(library));
    } else if (url.pathname === '/embed.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}, 600_000);

/** An SRT track through the API, its file PUT straight to storage; returns once the track is ready. */
async function addCaption(videoId: string): Promise<void> {
  const body = Buffer.from(CAPTION);
  const created = await runtime.api(`/v1/videos/${videoId}/captions`, {
    method: 'POST',
    token: alice,
    json: { language: 'en', label: 'English', format: 'srt', size: body.length },
  });
  const { captionId, upload } = (await created.json()) as { captionId: string; upload: { url: string } };
  expect((await fetch(upload.url, { method: 'PUT', body })).status).toBe(200);
  await eventually(
    async () => {
      const list = (await (await runtime.api(`/v1/videos/${videoId}/captions`, { token: alice })).json()) as {
        items: Array<{ captionId: string; status: string; failureReason: string | null }>;
      };
      const track = list.items.find((c) => c.captionId === captionId);
      if (track?.status === 'failed') throw new Error(`caption failed: ${track.failureReason}`);
      expect(track?.status).toBe('ready');
    },
    { timeoutMs: 30_000, what: 'the caption track to be ready' },
  );
}

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (pageServer ? pageServer.close(resolve) : resolve(undefined)));
  await runtime?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(VISIBILITIES)('%s video', (visibility) => {
  const hls = () => urls.get(visibility)!;

  it('ffprobe reads its streams and duration from the URL alone', async () => {
    const out = await exec('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,codec_name:format=duration',
      '-of',
      'json',
      hls(),
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const probed = JSON.parse(out.stdout) as {
      streams: Array<{ codec_type: string; codec_name: string }>;
      format: { duration: string };
    };
    expect(probed.streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ codec_type: 'video', codec_name: 'h264' }),
        expect.objectContaining({ codec_type: 'audio', codec_name: 'aac' }),
      ]),
    );
    expect(Number(probed.format.duration)).toBeCloseTo(SECONDS, 0);
  });

  it('ffprobe sees the caption rendition in the master playlist and reads the track as WebVTT', async () => {
    // ffmpeg's HLS demuxer (5.x, 6.x) lists subtitle renditions but does not demux them ("Can't support the
    // subtitle"): what it reads from the master is the rendition's URI; the track itself it reads directly.
    const master = await exec('ffprobe', [
      '-v',
      'verbose',
      '-show_entries',
      'stream=codec_type',
      '-of',
      'json',
      hls(),
    ]);
    const uri = /subtitle\(uri: (captions\/[0-9a-f-]+\.m3u8)\)/.exec(master.stderr)?.[1];
    expect(uri).toBeDefined();
    const playlist = await (await fetch(new URL(uri!, hls()))).text();
    const vtt = new URL(/\n([^#\n][^\n]*\.vtt)\n/.exec(playlist)![1]!, new URL(uri!, hls())).toString();
    const track = await exec('ffprobe', [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_type,codec_name,nb_read_packets',
      '-of',
      'json',
      vtt,
    ]);
    expect(track.code).toBe(0);
    expect(JSON.parse(track.stdout).streams).toEqual([
      { codec_type: 'subtitle', codec_name: 'webvtt', nb_read_packets: '2' },
    ]);
  });

  it('ffmpeg -i URL -f null - decodes it to the end', async () => {
    const out = await exec('ffmpeg', ['-v', 'error', '-nostdin', '-i', hls(), '-f', 'null', '-'], 120_000);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
  });

  it.each(['hls.js', 'shaka', 'video.js', 'native'])(
    '%s with its defaults plays it past 2 s from a page on another origin',
    async (player) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const refused: string[] = [];
      page.on('response', (response) => {
        if (response.status() >= 400) refused.push(`${response.status()} ${response.url()}`);
      });
      try {
        await page.goto(`${pageOrigin}/embed.html?player=${player}&src=${encodeURIComponent(hls())}`);
        await page.waitForFunction(
          () => {
            const state = (window as unknown as { state: { time: number; error: string | null } }).state;
            if (state.error) throw new Error(state.error);
            return state.time > 2;
          },
          undefined,
          { timeout: 60_000, polling: 200 },
        );
        expect(refused).toEqual([]);
        if (player === 'hls.js' || player === 'shaka') {
          // The caption is a selectable subtitle track, and its cue reaches the browser's text track.
          const state = await page.evaluate(
            () => (window as unknown as { state: { tracks: string[] } }).state,
          );
          expect(state.tracks).toEqual(['English|en']);
          await page.waitForFunction(
            () =>
              (window as unknown as { cueTexts(): string[] }).cueTexts().includes('Hello from the captions'),
            undefined,
            { timeout: 20_000, polling: 200 },
          );
        }
      } finally {
        await context.close();
      }
    },
  );
});
