/**
 * The automatic poster is a representative frame, not whatever frame lies at 25%: a clip that is black
 * right there (a fade, a cut) still gets a picture, picked by ffmpeg's `thumbnail` filter over the
 * next seconds' candidates. Real ffmpeg (the static 2018 build too, via FFMPEG_PATH).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Binaries, resolveBinaries } from '#adapters/ffmpeg/binaries.ts';
import { extractPoster } from '#adapters/ffmpeg/poster.ts';
import { probe } from '#adapters/ffmpeg/probe.ts';
import { planLadder } from '#core/media/ladder.ts';
import { validateSource } from '#core/media/probe.ts';
import { exec } from '#test/helpers/media.ts';

let dir: string;
let binaries: Binaries;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'poster-'));
  binaries = await resolveBinaries();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Mean luma (0..255) of a picture: scaled to one gray pixel. */
async function meanLuma(file: string): Promise<number> {
  const out = await exec(binaries.ffmpeg, [
    '-v',
    'error',
    '-nostdin',
    '-i',
    file,
    '-vf',
    'scale=1:1,format=gray',
    '-f',
    'rawvideo',
    'pipe:1',
  ]);
  expect(out.code).toBe(0);
  return Buffer.from(out.stdout, 'latin1')[0]!;
}

describe('automatic poster', () => {
  it('is a representative frame when the frame at 25% is black', async () => {
    // Black for 0..3.6 s, then a bright test pattern: the plan's 25% point (3 s) is black.
    const clip = path.join(dir, 'fade.mp4');
    const made = await exec(binaries.ffmpeg, [
      '-v',
      'error',
      '-nostdin',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=black:s=320x240:r=25:d=3.6',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=s=320x240:r=25:d=8.4',
      '-filter_complex',
      '[0:v][1:v]concat=n=2:v=1[v]',
      '-map',
      '[v]',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    expect(made.code).toBe(0);
    const facts = validateSource(await probe(clip, { binaries }));
    if (!facts.ok) throw new Error(facts.reason);
    const plan = planLadder(facts.source);
    expect(plan.poster.atSeconds).toBeLessThan(3.6);
    const posterPath = path.join(dir, 'poster.jpg');
    const thumbnailPath = path.join(dir, 'thumbnail.jpg');
    await extractPoster(
      binaries,
      { container: facts.source.container, plan },
      { url: `file:${clip}`, protocols: 'file', redact: [] },
      posterPath,
      thumbnailPath,
      [],
    );
    expect(await meanLuma(posterPath)).toBeGreaterThan(60);
    expect(await meanLuma(thumbnailPath)).toBeGreaterThan(60);
  });
});
