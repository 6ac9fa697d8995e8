import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { resolveBinaries } from '#adapters/ffmpeg/binaries.ts';

const dir = mkdtempSync(join(tmpdir(), 'videocloud-binaries-'));
const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };
afterEach(() => {
  process.env.FFMPEG_PATH = saved.ffmpeg;
  process.env.FFPROBE_PATH = saved.ffprobe;
  if (saved.ffmpeg === undefined) delete process.env.FFMPEG_PATH;
  if (saved.ffprobe === undefined) delete process.env.FFPROBE_PATH;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An executable standing in for ffmpeg and ffprobe. */
function fake(name: string, script: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  process.env.FFMPEG_PATH = file;
  process.env.FFPROBE_PATH = file;
  return file;
}

describe('resolving ffmpeg', () => {
  it('says what the binary printed when it cannot run', async () => {
    const file = fake(
      'broken',
      'echo "error while loading shared libraries: libavdevice.so.59" >&2; exit 127',
    );
    await expect(resolveBinaries()).rejects.toThrow(
      `${file} -version failed: error while loading shared libraries: libavdevice.so.59`,
    );
  });

  it('says so when it exits without a word or without a version', async () => {
    const silent = fake('silent', 'exit 3');
    await expect(resolveBinaries()).rejects.toThrow(`${silent} -version failed: exit code 3, and no version`);
    const other = fake('other', 'echo "not ffmpeg at all"');
    await expect(resolveBinaries()).rejects.toThrow(`${other} -version failed: exit code 0, and no version`);
  });
});
