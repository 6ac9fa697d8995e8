import { describe, expect, it } from '@jest/globals';
import { planStoryboard, storyboardVtt } from '#core/media/storyboard.ts';
import { cueAt, parseStoryboard } from '../../web/src/storyboard.ts';

describe('the web client reads the storyboard the worker writes', () => {
  const base = 'https://cdn.example/t/tok/videos/v/storyboard/storyboard.vtt';
  const plan = planStoryboard({ durationSeconds: 250, width: 1280, height: 720 });
  const cues = parseStoryboard(storyboardVtt(plan, 250), base);

  it('every tile, resolved next to the VTT (the token in its path carries over)', () => {
    expect(cues).toHaveLength(plan.tiles);
    expect(cues[0]).toEqual({
      start: 0,
      end: plan.intervalSeconds,
      url: 'https://cdn.example/t/tok/videos/v/storyboard/sprite-0.jpg',
      x: 0,
      y: 0,
      w: 160,
      h: 90,
    });
    expect(cues.at(-1)!.end).toBe(250);
  });

  it('the tile of a time is the cue that covers it', () => {
    const cue = cueAt(cues, 25.5)!;
    expect(cue.start).toBeLessThanOrEqual(25.5);
    expect(cue.end).toBeGreaterThan(25.5);
    expect(cueAt(cues, 999)).toBe(cues.at(-1));
  });
});
