/**
 * bench/transcode: a generated 1080p clip (60 s by default) through the whole local pipeline — upload,
 * S3 event, scan, probe, plan, ffmpeg ladder, upload to the media bucket, ready — against one plain ffmpeg
 * command that makes the same ladder (same sizes, bitrates, preset, 4 s fMP4 HLS) from the same file on
 * local disk, with nothing else around it. Prints wall time to ready, the ratio (target <= 1.10), the
 * realtime factor, and time to the first playable rendition.
 *
 *   npx tsx bench/transcode.ts [seconds=60]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { probe } from '#adapters/ffmpeg/probe.ts';
import { planLadder } from '#core/media/ladder.ts';
import { validateSource } from '#core/media/probe.ts';
import { LOCAL_RESOURCES, startLocalRuntime } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { exec, makeClip } from '#test/helpers/media.ts';
import { plainLadderArgs } from './plain-ladder.ts';

const seconds = Number(process.argv[2] ?? 60);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-transcode-'));
const binaries = await resolveBinaries();
console.log(`transcode: ffmpeg ${binaries.version}; generating a ${seconds} s 1920x1080 clip`);
const sourcePath = await makeClip(dir, 'source.mp4', { width: 1920, height: 1080, seconds });
const source = await readFile(sourcePath);
const validation = validateSource(await probe(sourcePath));
if (!validation.ok) throw new Error(validation.reason);
const plan = planLadder(validation.source, { ffmpegMaxDurationSeconds: Number.POSITIVE_INFINITY });

// Baseline: the same ladder from one hand-written ffmpeg command, file to local disk.
const args = await plainLadderArgs(sourcePath, plan, path.join(dir, 'baseline'));
const baselineStart = performance.now();
const baseline = await exec(binaries.ffmpeg, args, 30 * 60_000);
if (baseline.code !== 0) throw new Error(`baseline ffmpeg failed: ${baseline.stderr}`);
const baselineSeconds = (performance.now() - baselineStart) / 1000;

// Ours: the local runtime, driven through its API like a client.
const runtime = await startLocalRuntime({
  PORT: 0,
  HOST: '127.0.0.1',
  VIDEOCLOUD_DATA_DIR: path.join(dir, 'data'),
  WEB_ORIGINS: [],
  EMBED_ORIGINS: ['*'],
  LOG_LEVEL: 'ERROR',
});
try {
  const token = runtime.issuer.mint({ sub: 'bench', groups: ['creator'] }).access_token;
  const api = (route: string, body?: unknown) =>
    fetch(`${runtime.url}${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const created = (await (
    await api('/v1/uploads', {
      filename: 'bench.mp4',
      contentType: 'video/mp4',
      size: source.length,
      title: 'bench',
    })
  ).json()) as { uploadId: string; videoId: string; partSize: number; partCount: number };
  const { parts } = (await (
    await api(`/v1/uploads/${created.uploadId}/parts`, {
      partNumbers: Array.from({ length: created.partCount }, (_, i) => i + 1),
    })
  ).json()) as { parts: Array<{ partNumber: number; url: string; headers: Record<string, string> }> };
  await Promise.all(
    parts.map((part) =>
      fetch(part.url, {
        method: 'PUT',
        headers: part.headers,
        body: new Uint8Array(
          source.subarray((part.partNumber - 1) * created.partSize, part.partNumber * created.partSize),
        ),
      }),
    ),
  );
  const s3 = localS3Client(runtime.s3);
  const started = performance.now();
  await api(`/v1/uploads/${created.uploadId}/complete`, {});
  let firstPlayable: number | undefined;
  for (;;) {
    if (firstPlayable === undefined) {
      const listing = await s3.send(
        new ListObjectsV2Command({
          Bucket: LOCAL_RESOURCES.mediaBucket,
          Prefix: `videos/${created.videoId}/`,
        }),
      );
      if ((listing.Contents ?? []).some((o) => o.Key?.endsWith('/index.m3u8'))) {
        firstPlayable = (performance.now() - started) / 1000;
      }
    }
    const video = (await (await api(`/v1/videos/${created.videoId}`)).json()) as {
      status: string;
      failureReason: string | null;
    };
    if (video.status === 'failed') throw new Error(`pipeline failed: ${video.failureReason}`);
    if (video.status === 'ready') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const oursSeconds = (performance.now() - started) / 1000;
  const ratio = oursSeconds / baselineSeconds;
  console.log(`transcode: ${plan.renditions.map((r) => r.name).join(', ')} from ${seconds} s of 1080p`);
  console.log(
    `  plain ffmpeg, file to disk       ${baselineSeconds.toFixed(1)} s (${(seconds / baselineSeconds).toFixed(2)}x realtime)`,
  );
  console.log(
    `  ours, complete -> ready          ${oursSeconds.toFixed(1)} s (${(seconds / oursSeconds).toFixed(2)}x realtime)`,
  );
  console.log(`  ours, first playable rendition   ${firstPlayable?.toFixed(1) ?? '?'} s`);
  console.log(`  ratio ours / plain: ${ratio.toFixed(3)} (target <= 1.10) ${ratio <= 1.1 ? 'OK' : 'OVER'}`);
} finally {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
}
