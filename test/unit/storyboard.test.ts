import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { planStoryboard, storyboardVtt } from '#core/media/storyboard.ts';

describe('storyboard plan and WebVTT', () => {
  test('a 12 s landscape clip: a tile a second, 160 wide, one sheet', () => {
    const plan = planStoryboard({ durationSeconds: 12, width: 1280, height: 720 });
    expect(plan).toEqual({
      intervalSeconds: 1,
      tileWidth: 160,
      tileHeight: 90,
      columns: 10,
      rows: 10,
      tiles: 12,
      sheets: 1,
    });
    const vtt = storyboardVtt(plan, 12).split('\n');
    expect(vtt.slice(0, 5)).toEqual([
      'WEBVTT',
      '',
      '00:00:00.000 --> 00:00:01.000',
      'sprite-0.jpg#xywh=0,0,160,90',
      '',
    ]);
    expect(vtt).toContain('sprite-0.jpg#xywh=160,90,160,90'); // tile 11: second row, second column
  });

  test('portrait keeps its orientation; long videos widen the interval and spill onto more sheets', () => {
    expect(planStoryboard({ durationSeconds: 30, width: 720, height: 1280 })).toMatchObject({
      tileWidth: 90,
      tileHeight: 160,
    });
    expect(planStoryboard({ durationSeconds: 4 * 3600, width: 1920, height: 1080 })).toMatchObject({
      intervalSeconds: 30,
      tiles: 480,
      sheets: 5,
    });
  });

  test('every tile lies inside its sheet, cues cover the video without gaps (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 4 * 3600, noNaN: true }),
        fc.integer({ min: 16, max: 7680 }),
        fc.integer({ min: 16, max: 4320 }),
        (durationSeconds, width, height) => {
          const plan = planStoryboard({ durationSeconds, width, height });
          const cues = [
            ...storyboardVtt(plan, durationSeconds).matchAll(
              /(\d+):(\d+):(\d+)\.(\d+) --> (\d+):(\d+):(\d+)\.(\d+)\nsprite-(\d+)\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)/g,
            ),
          ].map((m) => m.slice(1).map(Number));
          expect(cues).toHaveLength(plan.tiles);
          let previousEnd = 0;
          for (const [h1, m1, s1, ms1, h2, m2, s2, ms2, sheet, x, y, w, h] of cues as number[][]) {
            const start = h1! * 3600 + m1! * 60 + s1! + ms1! / 1000;
            const end = h2! * 3600 + m2! * 60 + s2! + ms2! / 1000;
            expect(start).toBeCloseTo(previousEnd, 2);
            expect(end).toBeGreaterThan(start);
            previousEnd = end;
            expect(sheet).toBeLessThan(plan.sheets);
            expect(x! + w!).toBeLessThanOrEqual(plan.columns * plan.tileWidth);
            expect(y! + h!).toBeLessThanOrEqual(plan.rows * plan.tileHeight);
          }
          expect(previousEnd).toBeCloseTo(durationSeconds, 2);
        },
      ),
      { numRuns: 200 },
    );
  });
});
