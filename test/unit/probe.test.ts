import { describe, expect, it } from '@jest/globals';
import {
  type FfprobeOutput,
  ffprobeOutputSchema,
  formatDuration,
  parseRational,
  validateSource,
} from '#core/media/probe.ts';

type Stream = FfprobeOutput['streams'][number];

const MP4 = 'mov,mp4,m4a,3gp,3g2,mj2';

function videoStream(extra: Partial<Stream> = {}): Stream {
  return {
    index: 0,
    codec_type: 'video',
    codec_name: 'h264',
    width: 1920,
    height: 1080,
    sample_aspect_ratio: '1:1',
    avg_frame_rate: '30/1',
    r_frame_rate: '30/1',
    duration: '60.000000',
    disposition: { attached_pic: 0 },
    ...extra,
  };
}

const audioStream = (index = 1): Stream => ({
  index,
  codec_type: 'audio',
  codec_name: 'aac',
  duration: '60.0',
});

function probeOf(streams: Stream[], format: Partial<FfprobeOutput['format']> = {}): FfprobeOutput {
  // Through the schema, as the adapter does, so the fixtures stay honest about ffprobe's shapes.
  return ffprobeOutputSchema.parse({
    streams,
    format: { format_name: MP4, duration: '60.000000', ...format },
  });
}

function reasonOf(probe: FfprobeOutput, limits = {}): string {
  const result = validateSource(probe, limits);
  if (result.ok) throw new Error('expected a rejection');
  return result.reason;
}

describe('validateSource', () => {
  it('accepts an MP4 with video and audio and reports its facts', () => {
    const result = validateSource(probeOf([videoStream(), audioStream()]));
    expect(result).toEqual({
      ok: true,
      source: {
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
      },
    });
  });

  it('forces matroska for Matroska and WebM, whose duration is only on the container', () => {
    const probe = probeOf([videoStream({ codec_name: 'vp9', duration: undefined })], {
      format_name: 'matroska,webm',
      duration: '12.5',
    });
    const result = validateSource(probe);
    expect(result.ok && result.source).toMatchObject({
      container: 'matroska',
      durationSeconds: 12.5,
      hasAudio: false,
    });
    expect(result.ok && result.source.audioCodec).toBeUndefined();
  });

  it.each([
    ['hls', 'hls'],
    ['concat', 'concat'],
    ['avi', 'avi'],
    ['mpegts', 'mpegts'],
    ['image2', 'image2'],
    ['tty', 'tty'],
  ])('rejects the %s demuxer by name', (formatName, shown) => {
    expect(reasonOf(probeOf([videoStream()], { format_name: formatName }))).toBe(
      `not a supported container: found '${shown}' (accepted: MP4/MOV, Matroska/WebM)`,
    );
  });

  it('rejects audio-only files', () => {
    expect(reasonOf(probeOf([audioStream(0)]))).toBe('not a video: no video stream found');
  });

  it('does not count cover art as video', () => {
    const coverArt = videoStream({
      index: 1,
      codec_name: 'mjpeg',
      width: 600,
      height: 600,
      disposition: { attached_pic: 1 },
    });
    expect(reasonOf(probeOf([audioStream(0), coverArt]))).toBe('not a video: no video stream found');
  });

  it('maps the real video stream when cover art comes first', () => {
    const coverArt = videoStream({
      index: 0,
      codec_name: 'png',
      width: 500,
      height: 500,
      disposition: { attached_pic: 1 },
    });
    const result = validateSource(probeOf([coverArt, audioStream(1), videoStream({ index: 2 })]));
    expect(result.ok && result.source).toMatchObject({
      videoStreamIndex: 2,
      audioStreamIndex: 1,
      width: 1920,
    });
  });

  it('rejects a video stream without a codec or a size', () => {
    expect(reasonOf(probeOf([videoStream({ codec_name: undefined })]))).toMatch(/^not a video: .*codec/);
    expect(reasonOf(probeOf([videoStream({ codec_name: 'none' })]))).toMatch(/^not a video: .*codec/);
    expect(reasonOf(probeOf([videoStream({ width: 0, height: 0 })]))).toBe(
      'not a video: the video stream has no picture size',
    );
  });

  describe('rotation', () => {
    it('swaps the sides for a -90° display matrix (ffmpeg ≥5 side data)', () => {
      const phone = videoStream({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] });
      const result = validateSource(probeOf([phone]));
      expect(result.ok && result.source).toMatchObject({ width: 1080, height: 1920 });
    });

    it('swaps the sides for a rotate=270 tag (ffmpeg 4.x)', () => {
      const result = validateSource(probeOf([videoStream({ tags: { rotate: '270' } })]));
      expect(result.ok && result.source).toMatchObject({ width: 1080, height: 1920 });
    });

    it('keeps the sides for 180°', () => {
      const result = validateSource(probeOf([videoStream({ side_data_list: [{ rotation: 180 }] })]));
      expect(result.ok && result.source).toMatchObject({ width: 1920, height: 1080 });
    });

    it('applies the sample aspect ratio before rotating (anamorphic DV)', () => {
      const dv = videoStream({
        width: 720,
        height: 480,
        sample_aspect_ratio: '32:27',
        tags: { rotate: '90' },
      });
      const result = validateSource(probeOf([dv]));
      expect(result.ok && result.source).toMatchObject({ width: 480, height: 854 });
    });
  });

  describe('limits', () => {
    it('rejects a source over 4 h with the duration spelled out', () => {
      expect(reasonOf(probeOf([videoStream()], { duration: String(4 * 3600 + 600) }))).toBe(
        'duration 4h10m is over the 4h limit',
      );
    });

    it('uses configured limits', () => {
      expect(reasonOf(probeOf([videoStream()], { duration: '11400' }), { maxDurationSeconds: 7200 })).toBe(
        'duration 3h10m is over the 2h limit',
      );
    });

    it('accepts exactly 4 h', () => {
      expect(validateSource(probeOf([videoStream()], { duration: '14400' })).ok).toBe(true);
    });

    it('rejects a zero or missing duration', () => {
      expect(reasonOf(probeOf([videoStream()], { duration: '0.000000' }))).toMatch(
        /^unreadable: .*no duration/,
      );
      expect(reasonOf(probeOf([videoStream({ duration: undefined })], { duration: undefined }))).toMatch(
        /no duration/,
      );
    });

    it('allows 8K in either orientation and nothing bigger', () => {
      expect(validateSource(probeOf([videoStream({ width: 7680, height: 4320 })])).ok).toBe(true);
      expect(validateSource(probeOf([videoStream({ width: 4320, height: 7680 })])).ok).toBe(true);
      expect(reasonOf(probeOf([videoStream({ width: 8192, height: 4320 })]))).toBe(
        'resolution 8192x4320 is over the 7680x4320 limit',
      );
      expect(reasonOf(probeOf([videoStream({ width: 4400, height: 4400 })]))).toMatch(
        /over the 7680x4320 limit/,
      );
    });

    it('rejects a side under 16 pixels', () => {
      expect(reasonOf(probeOf([videoStream({ width: 640, height: 8 })]))).toBe(
        'resolution 640x8 is under the 16x16 minimum',
      );
    });

    it('rejects more than 120 fps and falls back to r_frame_rate when the average is unknown', () => {
      expect(reasonOf(probeOf([videoStream({ avg_frame_rate: '240/1' })]))).toBe(
        'frame rate 240 fps is over the 120 fps limit',
      );
      const mkv = validateSource(
        probeOf([videoStream({ avg_frame_rate: '0/0', r_frame_rate: '24000/1001' })]),
      );
      expect(mkv.ok && mkv.source.frameRate).toBeCloseTo(23.976, 3);
      expect(reasonOf(probeOf([videoStream({ avg_frame_rate: '0/0', r_frame_rate: '0/0' })]))).toMatch(
        /no frame rate/,
      );
    });
  });
});

describe('helpers', () => {
  it('formats durations for people', () => {
    expect(formatDuration(15000)).toBe('4h10m');
    expect(formatDuration(14400)).toBe('4h');
    expect(formatDuration(14412)).toBe('4h0m12s');
    expect(formatDuration(14400.2)).toBe('4h0m1s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(600)).toBe('10m');
    expect(formatDuration(0)).toBe('0s');
  });

  it('parses ffprobe rationals', () => {
    expect(parseRational('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRational('16:9')).toBeCloseTo(1.778, 3);
    expect(parseRational('0/0')).toBeUndefined();
    expect(parseRational('N/A')).toBeUndefined();
    expect(parseRational(undefined)).toBeUndefined();
  });

  it('accepts real ffprobe output (numbers and strings mixed, unknown keys ignored)', () => {
    const parsed = ffprobeOutputSchema.parse({
      streams: [
        {
          index: 0,
          codec_type: 'video',
          width: 2,
          height: 2,
          side_data_list: [{ rotation: '-90' }],
          extra: 1,
        },
      ],
      format: { format_name: MP4, size: '123', bit_rate: 456, probe_score: 100 },
    });
    expect(parsed.streams[0]?.side_data_list?.[0]?.rotation).toBe('-90');
    expect(ffprobeOutputSchema.safeParse({ streams: [] }).success).toBe(false);
  });
});
