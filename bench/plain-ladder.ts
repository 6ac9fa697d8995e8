/**
 * The baseline both transcode benchmarks measure against: the same ladder from one hand-written ffmpeg
 * command (one decode, a split per rung, each rung's planned rate control, GOP and audio), written as fMP4
 * HLS to local disk. The best plain way to make this ladder, not a strawman.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TranscodePlan } from '#core/media/ladder.ts';

/** ffmpeg's arguments for the plan's ladder from `sourcePath`, one directory per rung under `outDir`. */
export async function plainLadderArgs(
  sourcePath: string,
  plan: TranscodePlan,
  outDir: string,
): Promise<string[]> {
  const n = plan.renditions.length;
  const graph = [
    `[0:v]split=${n}${plan.renditions.map((_, i) => `[s${i}]`).join('')}`,
    ...plan.renditions.map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`),
  ].join(';');
  const args = ['-v', 'error', '-y', '-i', sourcePath, '-filter_complex', graph];
  for (const [i, r] of plan.renditions.entries()) {
    const out = path.join(outDir, r.name);
    await mkdir(out, { recursive: true });
    args.push(
      ...['-map', `[v${i}]`, '-map', '0:a', '-c:v', 'libx264', '-preset', 'veryfast'],
      ...['-b:v', `${r.videoBitrate}`, '-maxrate', `${r.maxRate}`, '-bufsize', `${r.bufSize}`],
      ...['-g', `${plan.gopFrames}`, '-keyint_min', `${plan.gopFrames}`, '-sc_threshold', '0'],
      ...['-c:a', 'aac', '-b:a', `${r.audioBitrate}`, '-f', 'hls', '-hls_time', '4'],
      ...['-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4'],
      ...['-hls_segment_filename', path.join(out, 'seg_%05d.m4s'), path.join(out, 'index.m3u8')],
    );
  }
  return args;
}
