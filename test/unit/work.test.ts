import { describe, expect, it } from '@jest/globals';
import { planLadder } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';
import {
  checkPlausible,
  estimateWork,
  formatBytes,
  MAX_FRAME_HOLD_SECONDS,
  type PacketTime,
  summarizePackets,
  type VideoEvidence,
} from '#core/media/work.ts';

const source = (overrides: Partial<SourceFacts> = {}): SourceFacts => ({
  container: 'matroska',
  durationSeconds: 10,
  width: 640,
  height: 360,
  frameRate: 30,
  hasAudio: false,
  videoCodec: 'h264',
  videoStreamIndex: 0,
  ...overrides,
});

/** `count` frames at `fps` from `start`, each `bytes` long. */
const frames = (count: number, fps = 30, start = 0, bytes = 5000): PacketTime[] =>
  Array.from({ length: count }, (_, i) => ({ seconds: start + i / fps, durationSeconds: 1 / fps, bytes }));

const evidence = (
  packets: PacketTime[],
  complete = true,
  firstFrame = { width: 640, height: 360 },
): VideoEvidence => ({
  packets: summarizePackets(packets, complete),
  firstFrame,
});

const coded = { width: 640, height: 360 };
const MB = 1024 * 1024;

describe('summarizePackets', () => {
  it('covers a steady stream end to end, B-frame order notwithstanding', () => {
    const reordered = frames(300);
    [reordered[1], reordered[2]] = [reordered[2]!, reordered[1]!];
    const summary = summarizePackets(reordered, true);
    expect(summary).toMatchObject({ count: 300, complete: true, firstSeconds: 0 });
    expect(summary.lastSeconds).toBeCloseTo(10, 5);
    expect(summary.coveredSeconds).toBeCloseTo(10, 5);
    expect(summary.largestGap!.toSeconds - summary.largestGap!.fromSeconds).toBeCloseTo(1 / 30, 5);
  });

  it('counts a jump of hours as at most one held frame', () => {
    const summary = summarizePackets(
      [...frames(119), { seconds: 14_000, durationSeconds: 1 / 30, bytes: 9000 }],
      true,
    );
    expect(summary.lastSeconds).toBeCloseTo(14_000 + 1 / 30, 5);
    expect(summary.coveredSeconds).toBeCloseTo(119 / 30 + MAX_FRAME_HOLD_SECONDS, 1);
    expect(summary.largestGap).toEqual({ fromSeconds: 118 / 30, toSeconds: 14_000 });
    expect(summary.largestPacketBytes).toBe(9000);
  });
});

describe('checkPlausible', () => {
  it('accepts an ordinary clip, and a slide show that holds each picture for 5 s', () => {
    expect(checkPlausible(source(), coded, evidence(frames(300)), 2 * MB)).toEqual({ ok: true });
    const slides = Array.from({ length: 60 }, (_, i) => ({
      seconds: i * 5,
      durationSeconds: 5,
      bytes: 40_000,
    }));
    expect(checkPlausible(source({ durationSeconds: 300 }), coded, evidence(slides), 3 * MB)).toEqual({
      ok: true,
    });
  });

  it('refuses 120 frames stamped over 3h53m: timestamps are broken', () => {
    const bomb = [...frames(119), { seconds: 14_000, durationSeconds: 1 / 30, bytes: 9000 }];
    const verdict = checkPlausible(
      source({ durationSeconds: 14_000.033 }),
      coded,
      evidence(bomb),
      172 * 1024,
    );
    expect(verdict).toEqual({
      ok: false,
      reason:
        'declared 3h53m21s but holds 120 frames (14s of pictures; they jump from 4s to 3h53m20s): timestamps are broken; export the video again',
    });
  });

  it('refuses a jump inside what a capped scan read, and says the count is a lower bound', () => {
    const prefix = [...frames(1000), ...frames(1000, 30, 3600)];
    const verdict = checkPlausible(
      source({ durationSeconds: 4 * 3600 }),
      coded,
      evidence(prefix, false),
      2000 * MB,
    );
    expect(verdict).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^declared 4h but holds 2000\+ frames/),
    });
  });

  it('accepts audio that runs on after the last video frame (no gap inside the video)', () => {
    expect(checkPlausible(source({ durationSeconds: 600 }), coded, evidence(frames(300)), 10 * MB)).toEqual({
      ok: true,
    });
  });

  it('refuses a file far too small for its duration', () => {
    const verdict = checkPlausible(
      source({ durationSeconds: 4 * 3600 }),
      coded,
      evidence(frames(300)),
      1_000_000,
    );
    expect(verdict).toEqual({
      ok: false,
      reason:
        'declared 4h but the whole file is 977 KB (556 bit/s): its timestamps are broken; export the video again',
    });
  });

  it('refuses a stream whose first picture cannot be decoded, or is not the declared size', () => {
    expect(
      checkPlausible(source(), { width: 16, height: 16 }, { ...evidence(frames(20)), firstFrame: null }, MB),
    ).toEqual({
      ok: false,
      reason:
        'unreadable: not one frame of the 16x16 video stream could be decoded; the file is damaged or not what it claims to be',
    });
    expect(
      checkPlausible(
        source(),
        { width: 16, height: 16 },
        evidence(frames(20), true, { width: 4000, height: 4000 }),
        MB,
      ),
    ).toEqual({
      ok: false,
      reason: 'the pictures inside are 4000x4000 but the file declares 16x16; export the video again',
    });
  });

  it('refuses a frame larger than any picture of the declared size could need', () => {
    const growing = [
      ...frames(2, 1, 0, 200),
      { seconds: 2, durationSeconds: 1, bytes: 1_500_000 },
      ...frames(2, 1, 3, 200),
    ];
    const verdict = checkPlausible(
      source({ durationSeconds: 5, width: 16, height: 16, frameRate: 1 }),
      { width: 16, height: 16 },
      evidence(growing, true, { width: 16, height: 16 }),
      2 * MB,
    );
    expect(verdict).toEqual({
      ok: false,
      reason:
        'a single frame holds 1.4 MB, more than any 16x16 picture needs: the pictures inside are larger than the file declares; export the video again',
    });
  });

  it('refuses a video stream with no frames at all', () => {
    expect(checkPlausible(source(), coded, { ...evidence([]), firstFrame: null }, MB)).toEqual({
      ok: false,
      reason: 'not a video: the video stream holds no frames',
    });
  });
});

describe('estimateWork', () => {
  it('budgets 60 s plus four times the duration up to 1080p60, more above it', () => {
    const hd = source({ durationSeconds: 100, width: 1920, height: 1080, frameRate: 30 });
    const work = estimateWork(planLadder(hd), hd, 3000);
    expect(work.budgetSeconds).toBe(460);
    expect(work.outputFrames).toBe(3000);
    expect(work.decodedPixels).toBe(3000 * 1920 * 1080);
    expect(work.encodedPixels).toBe(
      3000 * planLadder(hd).renditions.reduce((sum, r) => sum + r.width * r.height, 0),
    );
    const uhd = source({ durationSeconds: 100, width: 7680, height: 4320, frameRate: 120 });
    expect(estimateWork(planLadder(uhd), uhd).budgetSeconds).toBe(60 + 400 * 32);
  });
});

describe('formatBytes', () => {
  it('speaks like a file manager', () => {
    expect([500, 176_128, 3_500_000, 5 * 1024 ** 3].map(formatBytes)).toEqual([
      '500 bytes',
      '172 KB',
      '3.3 MB',
      '5 GB',
    ]);
  });
});
