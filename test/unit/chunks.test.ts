import { describe, expect, it } from '@jest/globals';
import { mediaPlaylist, planChunks } from '#core/media/chunks.ts';
import { firstDecodeTime, shiftDecodeTimes } from '#core/media/fmp4.ts';
import { masterPlaylist } from '#core/media/hls.ts';
import { planLadder } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';

const source = (durationSeconds: number, frameRate = 30): SourceFacts => ({
  container: 'mov',
  durationSeconds,
  width: 1920,
  height: 1080,
  frameRate,
  hasAudio: true,
  videoCodec: 'h264',
  audioCodec: 'aac',
  videoStreamIndex: 0,
  audioStreamIndex: 1,
});

describe('planChunks', () => {
  it('cuts on segment boundaries, numbers segments globally, and leaves the last chunk open-ended', () => {
    const plan = planLadder(source(60));
    const chunks = planChunks(plan, { chunkSeconds: 20, maxChunks: 500 })!;
    expect(chunks.chunks.map((c) => [c.startFrame, c.frameCount, c.startSeconds, c.firstSegment])).toEqual([
      [0, 600, 0, 0],
      [600, 600, 20, 5],
      [1200, null, 40, 10],
    ]);
    expect(chunks.chunks.at(-1)!.durationSeconds).toBe(20);
    expect(chunks).toMatchObject({ segmentFrames: 120, chunkSegments: 5, audioJob: 3, jobCount: 4 });
  });

  it('rounds a chunk up to whole segments and keeps NTSC starts exact (a segment is 120 frames = 4.004 s)', () => {
    const plan = planLadder(source(100, 29.97));
    const chunks = planChunks(plan, { chunkSeconds: 10, maxChunks: 500 })!;
    expect(chunks.chunkSegments).toBe(3);
    expect(chunks.chunks[1]).toMatchObject({ startFrame: 360, startSeconds: 12.012, firstSegment: 3 });
    expect(chunks.chunks.at(-1)!.startSeconds + chunks.chunks.at(-1)!.durationSeconds).toBeCloseTo(100, 6);
  });

  it('bounds the fan-out: a 4 h source in 20 s chunks becomes at most maxChunks bigger chunks', () => {
    const plan = planLadder(source(4 * 3600));
    const chunks = planChunks(plan, { chunkSeconds: 20, maxChunks: 500 })!;
    expect(chunks.chunks.length).toBeLessThanOrEqual(500);
    expect(chunks.chunkSegments).toBe(8);
    expect(chunks.chunks.length).toBe(450);
  });

  it('leaves a source of one chunk to the single-process ladder', () => {
    expect(planChunks(planLadder(source(20)), { chunkSeconds: 20, maxChunks: 500 })).toBeUndefined();
    expect(planChunks(planLadder(source(21)), { chunkSeconds: 20, maxChunks: 500 })).toBeDefined();
  });
});

describe('the stitched playlists', () => {
  it('lists every segment under one init segment, and the master names the audio group in every variant', () => {
    const segments = [
      { uri: 'seg_00000.m4s', durationSeconds: 4, bytes: 1000 },
      { uri: 'seg_00001.m4s', durationSeconds: 4.004, bytes: 2000 },
    ];
    const media = mediaPlaylist(segments, 'init.mp4');
    expect(media.match(/#EXT-X-MAP:URI="init.mp4"/g)).toHaveLength(1);
    expect(media).toContain('#EXT-X-TARGETDURATION:4\n');
    expect(media).toMatch(/#EXTINF:4\.004000,\nseg_00001\.m4s\n#EXT-X-ENDLIST\n$/);

    const plan = planLadder(source(60));
    const master = masterPlaylist(
      plan,
      [
        {
          name: '720p',
          playlistUri: '720p/index.m3u8',
          averageBandwidth: 3_000_000,
          peakBandwidth: 3_500_000,
        },
      ],
      { groupId: 'audio', uri: 'audio/index.m3u8', averageBandwidth: 130_000, peakBandwidth: 140_000 },
    );
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
    );
    expect(master).toMatch(/BANDWIDTH=3640000,AVERAGE-BANDWIDTH=3130000,.*,AUDIO="audio"\n720p\/index\.m3u8/);
  });
});

/** A minimal fMP4 media segment: styp, sidx (v1), moof/traf/tfdt (v1). */
function segment(decodeTime: bigint): Buffer {
  const box = (type: string, ...payload: Buffer[]) => {
    const body = Buffer.concat(payload);
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + body.length);
    header.write(type, 4, 'latin1');
    return Buffer.concat([header, body]);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const u64 = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    return b;
  };
  return Buffer.concat([
    box('styp', Buffer.from('msdh'), u32(0)),
    box('sidx', u32(0x01000000), u32(1), u32(15360), u64(decodeTime + 1024n), u64(0n), u32(0)),
    box(
      'moof',
      box('mfhd', u32(0), u32(1)),
      box('traf', box('tfhd', u32(0), u32(1)), box('tfdt', u32(0x01000000), u64(decodeTime))),
    ),
    box('mdat', Buffer.from('frames')),
  ]);
}

describe('shiftDecodeTimes', () => {
  it('moves the tfdt and sidx times of a chunk segment by the chunk start, in place', () => {
    const bytes = segment(61_440n);
    shiftDecodeTimes(bytes, 20n * 15_360n);
    expect(firstDecodeTime(bytes)).toBe(61_440n + 307_200n);
    // sidx earliest_presentation_time sits 12 bytes into the sidx payload (after styp's 16 bytes + header).
    expect(bytes.readBigUInt64BE(16 + 8 + 12)).toBe(61_440n + 1024n + 307_200n);
  });

  it('refuses a segment that is not fragmented MP4', () => {
    expect(() => shiftDecodeTimes(Buffer.from('not an mp4 at all'), 1n)).toThrow(/malformed MP4/);
  });
});
