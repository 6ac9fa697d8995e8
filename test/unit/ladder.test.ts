import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  h264Level,
  outputFrameRate,
  planLadder,
  rfc6381Codecs,
  type TranscodePlan,
} from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';

function source(extra: Partial<SourceFacts> = {}): SourceFacts {
  return {
    container: 'mov',
    durationSeconds: 60,
    width: 1920,
    height: 1080,
    frameRate: 30,
    hasAudio: true,
    videoCodec: 'h264',
    audioCodec: 'aac',
    videoStreamIndex: 0,
    audioStreamIndex: 1,
    ...extra,
  };
}

/** Anything validateSource lets through: 16..7680 by 16..4320 in either orientation, ≤120 fps, ≤4 h. */
const validSource = fc
  .record({
    long: fc.integer({ min: 16, max: 7680 }),
    short: fc.integer({ min: 16, max: 4320 }),
    portrait: fc.boolean(),
    frameRate: fc.oneof(
      fc.constantFrom(23.976, 24, 25, 29.97, 30, 48, 50, 59.94, 60, 90, 100, 119.88, 120),
      fc.double({ min: 0.5, max: 120, noNaN: true }),
    ),
    durationSeconds: fc.double({ min: 0.04, max: 4 * 3600, noNaN: true }),
    hasAudio: fc.boolean(),
  })
  .filter(({ long, short }) => short <= long)
  .map(({ long, short, portrait, ...rest }) =>
    source({ width: portrait ? short : long, height: portrait ? long : short, ...rest }),
  );

const fps = (plan: TranscodePlan) => plan.frameRate.numerator / plan.frameRate.denominator;

describe('planLadder properties', () => {
  it('never upscales, keeps even dimensions and the orientation', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        for (const r of planLadder(src).renditions) {
          expect(r.width).toBeLessThanOrEqual(src.width);
          expect(r.height).toBeLessThanOrEqual(src.height);
          expect(r.width % 2).toBe(0);
          expect(r.height % 2).toBe(0);
          expect(r.width > 0 && r.height > 0).toBe(true);
          if (src.width > src.height) expect(r.width).toBeGreaterThanOrEqual(r.height);
          if (src.width < src.height) expect(r.height).toBeGreaterThanOrEqual(r.width);
        }
      }),
    );
  });

  it('keeps the aspect ratio within 1% (within 2 px per side for sub-240p single rungs)', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        const aspect = src.width / src.height;
        for (const r of planLadder(src).renditions) {
          if (Math.min(r.width, r.height) >= 200) {
            expect(Math.abs(r.width / r.height - aspect) / aspect).toBeLessThan(0.01);
          } else {
            // Rounding a 17x33 source to even sides cannot stay within 1%; it stays within a pixel or two.
            const scale = Math.min(r.width, r.height) / Math.min(src.width, src.height);
            expect(Math.abs(r.width - src.width * scale)).toBeLessThanOrEqual(2);
            expect(Math.abs(r.height - src.height * scale)).toBeLessThanOrEqual(2);
          }
        }
      }),
    );
  });

  it('has at least one rung, strictly descending in size and bitrate', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        const { renditions } = planLadder(src);
        expect(renditions.length).toBeGreaterThanOrEqual(1);
        expect(renditions.length).toBeLessThanOrEqual(5);
        for (let i = 1; i < renditions.length; i++) {
          const [hi, lo] = [renditions[i - 1]!, renditions[i]!];
          expect(lo.width * lo.height).toBeLessThan(hi.width * hi.height);
          expect(lo.videoBitrate).toBeLessThan(hi.videoBitrate);
          expect(lo.name).not.toBe(hi.name);
        }
      }),
    );
  });

  it('puts a keyframe on every segment boundary: gop = segment × fps, at 60 fps or less', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        const plan = planLadder(src);
        expect(plan.segmentSeconds).toBe(4);
        expect(fps(plan)).toBeLessThanOrEqual(60);
        expect(fps(plan)).toBeGreaterThan(0);
        expect(plan.gopFrames).toBe(Math.max(1, Math.round(plan.segmentSeconds * fps(plan))));
        // Never a faster output than the source, except for sub-1 fps slideshows, which get 1 fps.
        expect(fps(plan)).toBeLessThanOrEqual(Math.max(1, src.frameRate) * 1.01 + 0.5);
      }),
    );
  });

  it('sends sources over the threshold to MediaConvert', () => {
    fc.assert(
      fc.property(validSource, fc.integer({ min: 1, max: 4 * 3600 }), (src, threshold) => {
        const plan = planLadder(src, { ffmpegMaxDurationSeconds: threshold });
        expect(plan.path).toBe(src.durationSeconds <= threshold ? 'ffmpeg' : 'mediaconvert');
      }),
    );
  });

  it('takes the poster from inside the video and at the top rung size', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        const plan = planLadder(src);
        expect(plan.poster.atSeconds).toBeGreaterThanOrEqual(0);
        expect(plan.poster.atSeconds).toBeLessThan(src.durationSeconds);
        expect(plan.poster).toMatchObject({
          width: plan.renditions[0]!.width,
          height: plan.renditions[0]!.height,
        });
        expect(plan.thumbnail.width).toBeLessThanOrEqual(320);
      }),
    );
  });

  it('publishes CODECS that match the level and the audio', () => {
    fc.assert(
      fc.property(validSource, (src) => {
        for (const r of planLadder(src).renditions) {
          expect(r.codecs).toBe(rfc6381Codecs(r.level, src.hasAudio));
          expect(r.audioBitrate > 0).toBe(src.hasAudio);
        }
      }),
    );
  });
});

describe('planLadder examples', () => {
  const sizes = (plan: TranscodePlan) => plan.renditions.map((r) => `${r.name} ${r.width}x${r.height}`);

  it('1080p landscape gets the full ladder at the reference bitrates', () => {
    const plan = planLadder(source());
    expect(sizes(plan)).toEqual([
      '1080p 1920x1080',
      '720p 1280x720',
      '480p 854x480',
      '360p 640x360',
      '240p 426x240',
    ]);
    expect(plan.renditions.map((r) => r.videoBitrate)).toEqual([
      5_000_000, 3_000_000, 1_400_000, 800_000, 400_000,
    ]);
    expect(plan.renditions[0]).toMatchObject({ level: '4.0', codecs: 'avc1.640028,mp4a.40.2' });
    expect(plan).toMatchObject({
      frameRate: { numerator: 30, denominator: 1 },
      gopFrames: 120,
      poster: { atSeconds: 15 },
      thumbnail: { width: 320, height: 180 },
      path: 'ffmpeg',
      streams: { video: 0, audio: 1 },
    });
  });

  it('a phone portrait stays portrait, named by its short side', () => {
    expect(sizes(planLadder(source({ width: 1080, height: 1920 })))).toEqual([
      '1080p 1080x1920',
      '720p 720x1280',
      '480p 480x854',
      '360p 360x640',
      '240p 240x426',
    ]);
  });

  it('never upscales a 720p source and keeps a slightly short 1080p rung', () => {
    expect(sizes(planLadder(source({ width: 1280, height: 720 })))[0]).toBe('720p 1280x720');
    expect(sizes(planLadder(source({ width: 1920, height: 1078 })))[0]).toBe('1080p 1920x1078');
  });

  it('a source under 240p gets one rung at its own (even) size', () => {
    const plan = planLadder(source({ width: 177, height: 99, hasAudio: false, audioStreamIndex: undefined }));
    expect(sizes(plan)).toEqual(['240p 176x98']);
    expect(plan.renditions[0]).toMatchObject({ audioBitrate: 0, codecs: 'avc1.64001e' });
    expect(plan.streams.audio).toBeNull();
  });

  it('keeps NTSC rates exact and halves high frame rates', () => {
    expect(outputFrameRate(29.97)).toEqual({ numerator: 30000, denominator: 1001 });
    expect(outputFrameRate(30)).toEqual({ numerator: 30, denominator: 1 });
    expect(outputFrameRate(23.976)).toEqual({ numerator: 24000, denominator: 1001 });
    expect(outputFrameRate(60.4)).toEqual({ numerator: 60, denominator: 1 });
    expect(outputFrameRate(119.88)).toEqual({ numerator: 60000, denominator: 1001 });
    expect(outputFrameRate(120)).toEqual({ numerator: 60, denominator: 1 });
    expect(outputFrameRate(90)).toEqual({ numerator: 45, denominator: 1 });
    expect(outputFrameRate(12.3)).toEqual({ numerator: 12, denominator: 1 });
    expect(planLadder(source({ frameRate: 29.97 })).gopFrames).toBe(120);
  });

  it('spends more bits at 60 fps, and picks the level that fits', () => {
    const plan = planLadder(source({ frameRate: 60 }));
    expect(plan.renditions[0]).toMatchObject({ videoBitrate: 7_500_000, level: '4.2' });
    expect(plan.gopFrames).toBe(240);
  });

  it('goes to MediaConvert above 10 minutes by default', () => {
    expect(planLadder(source({ durationSeconds: 600 })).path).toBe('ffmpeg');
    expect(planLadder(source({ durationSeconds: 600.5 })).path).toBe('mediaconvert');
  });
});

describe('h264Level', () => {
  it('follows Table A-1', () => {
    expect(h264Level(426, 240, 30, 500_000, 800_000)).toBe('3.0');
    expect(h264Level(1280, 720, 30, 3_750_000, 6_000_000)).toBe('3.1');
    expect(h264Level(1280, 720, 60, 5_625_000, 9_000_000)).toBe('3.2');
    expect(h264Level(1920, 1080, 30, 6_250_000, 10_000_000)).toBe('4.0');
    expect(h264Level(1920, 1080, 60, 9_375_000, 15_000_000)).toBe('4.2');
    // A very wide frame is bounded by sqrt(8 × MaxFS) macroblocks per side, not only by area.
    expect(h264Level(7680, 16, 30, 500_000, 800_000)).toBe('5.1');
  });

  it('writes the level into the CODECS string in hex', () => {
    expect(rfc6381Codecs('3.1', true)).toBe('avc1.64001f,mp4a.40.2');
    expect(rfc6381Codecs('4.2', false)).toBe('avc1.64002a');
  });
});
