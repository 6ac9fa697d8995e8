/**
 * Storyboard sprites (core/media/storyboard.ts plans them): one frame every `intervalSeconds` of a
 * (small) rendition, scaled to a tile and laid out `columns` x `rows` per sheet by ffmpeg's `tile`
 * filter, written as sprite-0.jpg, sprite-1.jpg, ... One decode of the rendition, no seeks.
 */
import { readdir } from 'node:fs/promises';
import type { StoryboardPlan } from '#core/media/storyboard.ts';
import { runOverInput, type ToolRun } from './mp4.ts';

/** Writes the sheets into `outputDir` and returns their file names in order. */
export async function makeSprites(tool: ToolRun, plan: StoryboardPlan, outputDir: string): Promise<string[]> {
  const graph =
    `fps=1/${plan.intervalSeconds},scale=${plan.tileWidth}:${plan.tileHeight},setsar=1,` +
    `tile=${plan.columns}x${plan.rows},format=yuvj420p`;
  await runOverInput(
    tool,
    'storyboard',
    [],
    [
      '-map',
      '0:v:0',
      '-an',
      '-vf',
      graph,
      '-frames:v',
      String(plan.sheets),
      '-q:v',
      '5',
      '-start_number',
      '0',
      `${outputDir}/sprite-%d.jpg`,
    ],
  );
  const names = (await readdir(outputDir)).filter((name) => /^sprite-\d+\.jpg$/.test(name));
  return names.sort((a, b) => Number(a.slice(7, -4)) - Number(b.slice(7, -4)));
}
