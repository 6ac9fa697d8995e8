/**
 * Storyboards: the thumbnails a player shows while the viewer hovers the seek bar. One frame every
 * `intervalSeconds`, scaled to a small tile, laid out row by row in sprite sheets of `columns` x `rows`
 * tiles (ffmpeg's `tile` filter makes them), and a WebVTT file whose cues map each time range to its tile
 * as `sprite-N.jpg#xywh=x,y,w,h` (the form Mux, video.js and hls.js plugins read). URIs are relative to
 * the VTT file, so the playback token in its path reaches the sprites too.
 */
import { timestamp } from './subtitles.ts';

export interface StoryboardPlan {
  intervalSeconds: number;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  rows: number;
  tiles: number;
  sheets: number;
}

/** Enough tiles to scrub precisely, few enough that a 4-hour video stays a handful of sheets. */
const TARGET_TILES = 120;
const MAX_INTERVAL_SECONDS = 30;
const TILE_LONG_SIDE = 160;
const COLUMNS = 10;
const ROWS = 10;

export function planStoryboard(source: {
  durationSeconds: number;
  width: number;
  height: number;
}): StoryboardPlan {
  const duration = Math.max(source.durationSeconds, 0.001);
  const intervalSeconds = Math.min(MAX_INTERVAL_SECONDS, Math.max(1, Math.round(duration / TARGET_TILES)));
  const landscape = source.width >= source.height;
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  const tileWidth = landscape ? TILE_LONG_SIDE : even((TILE_LONG_SIDE * source.width) / source.height);
  const tileHeight = landscape ? even((TILE_LONG_SIDE * source.height) / source.width) : TILE_LONG_SIDE;
  const tiles = Math.max(1, Math.ceil(duration / intervalSeconds));
  return {
    intervalSeconds,
    tileWidth,
    tileHeight,
    columns: COLUMNS,
    rows: ROWS,
    tiles,
    sheets: Math.ceil(tiles / (COLUMNS * ROWS)),
  };
}

export const spriteName = (sheet: number) => `sprite-${sheet}.jpg`;

/** The WebVTT that maps every time range to its tile. */
export function storyboardVtt(plan: StoryboardPlan, durationSeconds: number): string {
  const perSheet = plan.columns * plan.rows;
  const cues: string[] = [];
  for (let i = 0; i < plan.tiles; i++) {
    const start = i * plan.intervalSeconds;
    const end = Math.min((i + 1) * plan.intervalSeconds, Math.max(durationSeconds, start + 0.001));
    const within = i % perSheet;
    const x = (within % plan.columns) * plan.tileWidth;
    const y = Math.floor(within / plan.columns) * plan.tileHeight;
    cues.push(
      `${timestamp(start)} --> ${timestamp(end)}\n${spriteName(Math.floor(i / perSheet))}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}\n`,
    );
  }
  return ['WEBVTT', '', ...cues].join('\n');
}
