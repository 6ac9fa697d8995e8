/**
 * Caption tracks through the local runtime, as an API client adds them: create the track, PUT the file
 * straight to storage with the URL it returns, and watch the worker validate it, publish a sanitized
 * WebVTT as an HLS subtitles rendition and rewrite the master playlist; broken files fail with a reason
 * and leave the video as it was; deleting a track takes it out of the master again. A stand-in ladder in
 * the media bucket keeps ffmpeg out of this suite (test/e2e/players.test.ts plays real ones).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { VideoMedia } from '#adapters/media-objects.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { eventually } from '#test/helpers/eventually.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

interface CaptionView {
  captionId: string;
  language: string;
  label: string;
  status: string;
  failureReason: string | null;
}

let runtime: TestRuntime;
let alice: string;
let bob: string;
let work: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  alice = await runtime.token('alice', ['creator']);
  bob = await runtime.token('bob', ['creator']);
  work = mkdtempSync(join(tmpdir(), 'captions-'));
}, RUNTIME_START_MS);
afterAll(async () => {
  await runtime?.close();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const MASTER =
  '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=1280x720\n720p/index.m3u8\n';

async function readyVideo(visibility: 'public' | 'private' = 'public'): Promise<string> {
  const id = await seedVideo({ ownerId: 'alice', visibility, status: 'ready' });
  const media = new VideoMedia();
  writeFileSync(join(work, 'master.m3u8'), MASTER);
  writeFileSync(join(work, 'poster.jpg'), 'jpeg');
  await media.putFile(join(work, 'master.m3u8'), media.key(id, 'master.m3u8'));
  await media.putFile(join(work, 'poster.jpg'), media.key(id, 'poster.jpg'));
  return id;
}

async function addCaption(
  videoId: string,
  file: string,
  options: { format?: 'vtt' | 'srt'; language?: string; label?: string; token?: string } = {},
) {
  const body = Buffer.from(file);
  const created = await runtime.api(`/v1/videos/${videoId}/captions`, {
    method: 'POST',
    token: options.token ?? alice,
    json: {
      language: options.language ?? 'en',
      label: options.label ?? 'English',
      format: options.format ?? 'srt',
      size: body.length,
    },
  });
  if (created.status !== 201) return { status: created.status, problem: await created.json() };
  const { captionId, upload } = (await created.json()) as {
    captionId: string;
    upload: { url: string; method: string; headers: Record<string, string> };
  };
  const put = await fetch(upload.url, { method: upload.method, headers: upload.headers, body });
  expect(put.status).toBe(200);
  return { status: 201, captionId };
}

async function track(videoId: string, captionId: string, token = alice): Promise<CaptionView | undefined> {
  const list = await runtime.api(`/v1/videos/${videoId}/captions`, { token });
  return ((await list.json()) as { items: CaptionView[] }).items.find((c) => c.captionId === captionId);
}

const settled = (videoId: string, captionId: string) =>
  eventually(
    async () => {
      const view = await track(videoId, captionId);
      if (!view || view.status === 'uploading' || view.status === 'processing')
        throw new Error(`still ${view?.status}`);
      return view;
    },
    { timeoutMs: 20_000, what: 'the caption track to settle' },
  );

async function playbackOf(videoId: string) {
  const video = (await (await runtime.api(`/v1/videos/${videoId}`, { token: alice })).json()) as {
    playback: { hls: string; captions: Array<{ captionId: string; url: string; language: string }> };
  };
  return video.playback;
}

const SRT =
  '1\n00:00:01,000 --> 00:00:03,000\nHello <script>alert(1)</script><b>world</b>\n\n2\n00:00:04,000 --> 00:00:06,000\nSecond line\n';

describe('captions', () => {
  it('an SRT file becomes a WebVTT subtitles rendition listed in the master playlist', async () => {
    const videoId = await readyVideo();
    const { captionId } = await addCaption(videoId, SRT, { label: 'English "CC"' });
    expect(await settled(videoId, captionId!)).toMatchObject({ status: 'ready', failureReason: null });

    const playback = await playbackOf(videoId);
    const master = await (await fetch(playback.hls)).text();
    expect(master).toContain(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English 'CC'",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="captions/${captionId}.m3u8"`,
    );
    expect(master).toContain('RESOLUTION=1280x720,SUBTITLES="subs"');
    // A player resolves the rendition and its one WebVTT segment relatively, token and all.
    const playlistUrl = new URL(`captions/${captionId}.m3u8`, playback.hls).toString();
    const playlist = await (await fetch(playlistUrl)).text();
    expect(playlist).toMatch(/#EXT-X-TARGETDURATION:\d+\n/);
    const segment = /\n([^#\n][^\n]*\.vtt)\n/.exec(playlist)![1]!;
    const vttResponse = await fetch(new URL(segment, playlistUrl));
    expect(vttResponse.headers.get('content-type')).toBe('text/vtt; charset=utf-8');
    const vtt = await vttResponse.text();
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello alert(1)<b>world</b>\n\n00:00:04.000 --> 00:00:06.000\nSecond line\n',
    );
    expect(playback.captions).toEqual([
      {
        captionId,
        language: 'en',
        label: 'English "CC"',
        url: expect.stringContaining(`/captions/${captionId}.vtt`),
      },
    ]);
    expect(await (await fetch(playback.captions[0]!.url)).text()).toBe(vtt);
    // The uploaded file itself is gone: only the clean copy is served.
    await expect(
      localS3Client(runtime.s3).send(
        new HeadObjectCommand({
          Bucket: LOCAL_RESOURCES.uploadsBucket,
          Key: `uploads/${videoId}/captions/${captionId}/caption`,
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('a broken file fails with a reason naming the cue, and the master playlist is left as it was', async () => {
    const videoId = await readyVideo();
    const { captionId } = await addCaption(videoId, '1\n00:00:05,000 --> 00:00:02,000\nbackwards\n');
    expect(await settled(videoId, captionId!)).toMatchObject({
      status: 'failed',
      failureReason: expect.stringMatching(/^cue 1 \(line 2\) ends before it starts/),
    });
    const playback = await playbackOf(videoId);
    expect(await (await fetch(playback.hls)).text()).toBe(MASTER);
    expect(playback.captions).toEqual([]);
  });

  it('two tracks land in one master; deleting one takes it out again', async () => {
    const videoId = await readyVideo();
    const vtt = 'WEBVTT\n\n00:00.500 --> 00:02.000 align:start\nBonjour\n';
    const [en, fr] = await Promise.all([
      addCaption(videoId, SRT),
      addCaption(videoId, vtt, { format: 'vtt', language: 'fr', label: 'Français' }),
    ]);
    await Promise.all([settled(videoId, en.captionId!), settled(videoId, fr.captionId!)]);
    const { hls } = await playbackOf(videoId);
    const master = await (await fetch(hls)).text();
    expect(master.match(/TYPE=SUBTITLES/g)).toHaveLength(2);

    const removed = await runtime.api(`/v1/videos/${videoId}/captions/${en.captionId}`, {
      method: 'DELETE',
      token: alice,
    });
    expect(removed.status).toBe(204);
    await eventually(
      async () => {
        const now = await (await fetch(hls)).text();
        expect(now).not.toContain(`captions/${en.captionId}.m3u8`);
        expect(now).toContain(`captions/${fr.captionId}.m3u8`);
      },
      { timeoutMs: 10_000, what: 'the deleted track to leave the master playlist' },
    );
    await eventually(
      async () => expect((await fetch(new URL(`captions/${en.captionId}.vtt`, hls))).status).toBe(404),
      { timeoutMs: 10_000, what: "the deleted track's file to go" },
    );
    expect(await track(videoId, en.captionId!)).toBeUndefined();
  });

  it('only the owner manages tracks; others who can see the video list only ready ones', async () => {
    const publicId = await readyVideo('public');
    const { captionId } = await addCaption(publicId, SRT);
    await settled(publicId, captionId!);
    const pending = await runtime.api(`/v1/videos/${publicId}/captions`, {
      method: 'POST',
      token: alice,
      json: { language: 'de', label: 'Deutsch', format: 'srt', size: 10 },
    });
    expect(pending.status).toBe(201);
    const forBob = (await (await runtime.api(`/v1/videos/${publicId}/captions`, { token: bob })).json()) as {
      items: CaptionView[];
    };
    expect(forBob.items.map((c) => c.captionId)).toEqual([captionId]);
    expect((await addCaption(publicId, SRT, { token: bob })).status).toBe(403);
    expect(
      (await runtime.api(`/v1/videos/${publicId}/captions/${captionId}`, { method: 'DELETE', token: bob }))
        .status,
    ).toBe(403);

    const privateId = await readyVideo('private');
    expect((await runtime.api(`/v1/videos/${privateId}/captions`, { token: bob })).status).toBe(404);
    expect((await addCaption(privateId, SRT, { token: bob })).status).toBe(404);
  });

  it('refuses bad requests with a 400 problem and changes nothing', async () => {
    const videoId = await readyVideo();
    for (const json of [
      { language: 'english!', label: 'x', format: 'srt', size: 10 },
      { language: 'en', label: '', format: 'srt', size: 10 },
      { language: 'en', label: 'x', format: 'ass', size: 10 },
      { language: 'en', label: 'x', format: 'srt', size: 3 * 1024 * 1024 },
      { language: 'en', label: 'x', format: 'srt', size: 10, status: 'ready' },
    ]) {
      const response = await runtime.api(`/v1/videos/${videoId}/captions`, {
        method: 'POST',
        token: alice,
        json,
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    const list = (await (await runtime.api(`/v1/videos/${videoId}/captions`, { token: alice })).json()) as {
      items: unknown[];
    };
    expect(list.items).toEqual([]);
  });

  it('the upload URL takes exactly the declared size, and only once the video is ready', async () => {
    const videoId = await readyVideo();
    const created = await runtime.api(`/v1/videos/${videoId}/captions`, {
      method: 'POST',
      token: alice,
      json: { language: 'en', label: 'English', format: 'srt', size: 50 },
    });
    const { upload } = (await created.json()) as { upload: { url: string } };
    expect((await fetch(upload.url, { method: 'PUT', body: 'x'.repeat(51) })).status).toBe(403);
    const processing = await seedVideo({ ownerId: 'alice', status: 'processing' });
    const early = await runtime.api(`/v1/videos/${processing}/captions`, {
      method: 'POST',
      token: alice,
      json: { language: 'en', label: 'English', format: 'srt', size: 50 },
    });
    expect(early.status).toBe(409);
  });
});
