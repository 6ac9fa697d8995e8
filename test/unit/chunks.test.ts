import { describe, expect, it } from '@jest/globals';
import { adtsFrames, keepAdtsFrames } from '#core/media/adts.ts';
import {
  AAC_FRAME_SAMPLES,
  AUDIO_PREROLL_FRAMES,
  AUDIO_SAMPLE_RATE,
  audioBitrates,
  DEFAULT_CHUNK_SECONDS,
  DEFAULT_MAX_CHUNKS,
  DEFAULT_RUNG_GROUPS,
  groupRungs,
  jobPlan,
  mediaPlaylist,
  planChunks,
  rungParts,
} from '#core/media/chunks.ts';
import {
  editListMediaTime,
  firstDecodeTime,
  setEditListMediaTime,
  shiftDecodeTimes,
} from '#core/media/fmp4.ts';
import { masterPlaylist } from '#core/media/hls.ts';
import { planLadder } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';
import { queueConsumers } from '#events/consumers.ts';

const source = (durationSeconds: number, frameRate = 30, hasAudio = true): SourceFacts => ({
  container: 'mov',
  durationSeconds,
  width: 1920,
  height: 1080,
  frameRate,
  hasAudio,
  videoCodec: 'h264',
  audioCodec: hasAudio ? 'aac' : undefined,
  videoStreamIndex: 0,
  audioStreamIndex: hasAudio ? 1 : undefined,
});

const FRAME_SECONDS = AAC_FRAME_SAMPLES / AUDIO_SAMPLE_RATE;

describe('planChunks', () => {
  it('cuts on segment boundaries, numbers segments globally, and leaves the last chunk open-ended', () => {
    const plan = planLadder(source(60));
    const chunks = planChunks(plan, { chunkSeconds: 20, maxChunks: 500, rungGroups: 1 })!;
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
    const chunks = planChunks(plan, { chunkSeconds: 10, maxChunks: 500, rungGroups: 1 })!;
    expect(chunks.chunkSegments).toBe(3);
    expect(chunks.chunks[1]).toMatchObject({ startFrame: 360, startSeconds: 12.012, firstSegment: 3 });
    expect(chunks.chunks.at(-1)!.startSeconds + chunks.chunks.at(-1)!.durationSeconds).toBeCloseTo(100, 6);
  });

  it('bounds the fan-out: a 4 h source in 20 s chunks becomes at most maxChunks bigger chunks', () => {
    const plan = planLadder(source(4 * 3600));
    const chunks = planChunks(plan, { chunkSeconds: 20, maxChunks: 500, rungGroups: 1 })!;
    expect(chunks.chunks.length).toBeLessThanOrEqual(500);
    expect(chunks.chunkSegments).toBe(8);
    expect(chunks.chunks.length).toBe(450);
    // Two rung groups: as many chunks, two jobs each.
    expect(planChunks(plan, { chunkSeconds: 20, maxChunks: 500, rungGroups: 2 })!.chunks).toHaveLength(900);
  });

  it('with the defaults, a 60-minute source is one wave of the transcode fan-out; 4 h gets 60 s chunks', () => {
    const defaults = {
      chunkSeconds: DEFAULT_CHUNK_SECONDS,
      maxChunks: DEFAULT_MAX_CHUNKS,
      rungGroups: DEFAULT_RUNG_GROUPS,
    };
    const hour = planChunks(planLadder(source(3600)), defaults)!;
    expect(hour.jobCount).toBeLessThanOrEqual(queueConsumers.transcode.maxConcurrency!);
    const longest = planChunks(planLadder(source(4 * 3600)), defaults)!;
    expect(longest.chunkSegments * 4).toBe(60);
    expect(longest.chunks.length).toBe(DEFAULT_MAX_CHUNKS * DEFAULT_RUNG_GROUPS);
  });

  it('leaves a source of one chunk to the single-process ladder', () => {
    expect(planChunks(planLadder(source(20)), { chunkSeconds: 20, maxChunks: 500 })).toBeUndefined();
    expect(planChunks(planLadder(source(21)), { chunkSeconds: 20, maxChunks: 500 })).toBeDefined();
  });

  it('makes each chunk one job per rung group, groups of about equal cost, jobs in time order', () => {
    const plan = planLadder(source(60));
    const chunks = planChunks(plan, { chunkSeconds: 20, maxChunks: 500 })!;
    expect(chunks.chunks.map((c) => [c.index, c.startFrame, c.firstSegment, c.rungs])).toEqual([
      [0, 0, 0, ['1080p', '240p']],
      [1, 0, 0, ['720p', '480p', '360p']],
      [2, 600, 5, ['1080p', '240p']],
      [3, 600, 5, ['720p', '480p', '360p']],
      [4, 1200, 10, ['1080p', '240p']],
      [5, 1200, 10, ['720p', '480p', '360p']],
    ]);
    expect(chunks).toMatchObject({ audioJob: 6, jobCount: 7 });
    expect(jobPlan(plan, chunks.chunks[1]!).renditions.map((r) => r.name)).toEqual(['720p', '480p', '360p']);
    expect(jobPlan(plan, chunks.chunks[1]!).gopFrames).toBe(plan.gopFrames);
    // A plan stored before rung groups has jobs without `rungs`: each encodes every rung.
    expect(jobPlan(plan, { rungs: undefined })).toBe(plan);
  });

  it('stitches each rung from the jobs that encode it, one per chunk, in time order, whatever the grouping', () => {
    const plan = planLadder(source(60));
    // What each job reports: its own rungs, each with a segment named after the job.
    const resultsOf = (chunks: ReturnType<typeof planChunks> & object) =>
      chunks.chunks.map((job) => ({
        rungs: jobPlan(plan, job).renditions.map((r) => ({ name: r.name, segments: [`job-${job.index}`] })),
      }));
    const segmentsOf = (chunks: ReturnType<typeof planChunks> & object, rung: string) =>
      rungParts(plan, chunks, resultsOf(chunks), rung).flatMap((p) => p.segments);
    const options = { chunkSeconds: 20, maxChunks: 500 };
    const two = planChunks(plan, options)!;
    expect(segmentsOf(two, '1080p')).toEqual(['job-0', 'job-2', 'job-4']);
    expect(segmentsOf(two, '360p')).toEqual(['job-1', 'job-3', 'job-5']);
    const one = planChunks(plan, { ...options, rungGroups: 1 })!;
    expect(segmentsOf(one, '720p')).toEqual(['job-0', 'job-1', 'job-2']);
    const three = planChunks(plan, { ...options, rungGroups: 3 })!;
    expect(segmentsOf(three, '240p')).toEqual(['job-2', 'job-5', 'job-8']);
    // A plan stored before rung groups: no `rungs`, every job holds every rung.
    const legacy = { chunks: one.chunks.map(({ rungs: _, ...job }) => job) };
    expect(segmentsOf(legacy as typeof one, '480p')).toEqual(['job-0', 'job-1', 'job-2']);
    // A job that lost a rung, or a plan with no job for it, is an error rather than a playlist with a gap.
    const lossy = resultsOf(two).map((r, i) => (i === 2 ? { rungs: r.rungs.slice(1) } : r));
    expect(() => rungParts(plan, two, lossy, '1080p')).toThrow('a chunk has no 1080p rung');
    expect(() => rungParts(plan, two, resultsOf(two), '2160p')).toThrow('has no 2160p rung');
  });

  it('groups rungs by cost, each group highest first; one group each when there are more groups than rungs', () => {
    const ladder = planLadder(source(60)).renditions;
    expect(groupRungs(ladder, 1)).toEqual([['1080p', '720p', '480p', '360p', '240p']]);
    expect(groupRungs(ladder, 3)).toEqual([['1080p'], ['720p'], ['480p', '360p', '240p']]);
    expect(groupRungs(ladder, 9)).toEqual([['1080p'], ['720p'], ['480p'], ['360p'], ['240p']]);
    const small = planLadder({ ...source(60), width: 1280, height: 720 }).renditions;
    expect(groupRungs(small, 2)).toEqual([['720p'], ['480p', '360p', '240p']]);
  });
});

describe('planChunks: audio chunks', () => {
  it('cuts audio on whole AAC frames at video chunk starts, gapless, as long as the source to within a frame', () => {
    const plan = planLadder(source(30));
    const { audioChunks, audioJob, jobCount, chunks } = planChunks(plan, {
      chunkSeconds: 8,
      maxChunks: 500,
      audioChunkSeconds: 8,
      rungGroups: 1,
    })!;
    expect(chunks).toHaveLength(4);
    expect(audioJob).toBe(4);
    expect(jobCount).toBe(8);
    // Frame f is at media time f + 1 (the priming frame is first): 8 s = 375 frames of media time.
    expect(audioChunks.map((a) => [a.startFrame, a.frameCount, a.decodeTime])).toEqual([
      [0, 374, 0],
      [374, 375, 375 * 1024],
      [749, 375, 750 * 1024],
      [1124, 283, 1125 * 1024],
    ]);
    // Each chunk starts where the one before ends; together exactly ceil(30 s / frame) frames.
    for (let i = 1; i < audioChunks.length; i++) {
      const before = audioChunks[i - 1]!;
      expect(audioChunks[i]!.startFrame).toBe(before.startFrame + before.frameCount);
      expect(audioChunks[i]!.firstSegment).toBe(before.firstSegment + before.maxSegments);
    }
    const frames = audioChunks.reduce((n, a) => n + a.frameCount, 0);
    expect(frames).toBe(Math.ceil(30 / FRAME_SECONDS));
    expect(frames * FRAME_SECONDS - 30).toBeLessThan(FRAME_SECONDS);
    // Chunk 0 keeps the encoder's priming frame; the others drop it with their pre-roll, which they decode.
    expect(audioChunks[0]).toMatchObject({ skipFrames: 0, keepFrames: 375, readStartSeconds: 0 });
    for (const a of audioChunks.slice(1)) {
      expect(a.skipFrames).toBe(AUDIO_PREROLL_FRAMES + 1);
      expect(a.keepFrames).toBe(a.frameCount);
      expect(a.readStartSeconds).toBeCloseTo((a.startFrame - AUDIO_PREROLL_FRAMES) * FRAME_SECONDS, 5);
      // What is read covers the pre-roll, the chunk and a post-roll; the encoder makes one frame more.
      expect(a.readSamples / AAC_FRAME_SAMPLES + 1).toBeGreaterThan(a.skipFrames + a.keepFrames);
    }
  });

  it('keeps every audio chunk start within half a frame of its video chunk start at NTSC rates', () => {
    const plan = planLadder(source(600, 29.97));
    const planned = planChunks(plan, {
      chunkSeconds: 20,
      maxChunks: 500,
      audioChunkSeconds: 60,
      rungGroups: 1,
    })!;
    const span = 3;
    expect(planned.audioChunks).toHaveLength(Math.ceil(planned.chunks.length / span));
    for (const a of planned.audioChunks) {
      const video = planned.chunks[a.index * span]!;
      const media = a.index === 0 ? 0 : (a.startFrame + 1) * FRAME_SECONDS;
      expect(Math.abs(media - video.startSeconds)).toBeLessThanOrEqual(FRAME_SECONDS / 2);
    }
  });

  it('makes audio chunks of whole video chunks (120 s by default), and only a poster job without audio', () => {
    const hour = planChunks(planLadder(source(3600)), { chunkSeconds: 20, maxChunks: 500 })!;
    expect(hour.chunks).toHaveLength(180 * 2);
    expect(hour.audioChunks).toHaveLength(30);
    expect(hour.jobCount).toBe(390);
    const silent = planChunks(planLadder(source(60, 30, false)), { chunkSeconds: 20, maxChunks: 500 })!;
    expect(silent.audioChunks).toEqual([]);
    expect(silent).toMatchObject({ audioJob: 6, jobCount: 7 });
  });

  it('one audio rendition per audio bitrate of the ladder, highest first', () => {
    expect(audioBitrates(planLadder(source(60)))).toEqual([128_000, 96_000, 64_000]);
  });
});

describe('ADTS frames', () => {
  const frame = (length: number, fill: number) => {
    const b = Buffer.alloc(length, fill);
    b[0] = 0xff;
    b[1] = 0xf1;
    b[3] = (length >> 11) & 0x03;
    b[4] = (length >> 3) & 0xff;
    b[5] = ((length & 0x07) << 5) | 0x1f;
    return b;
  };
  it('drops the first frames and keeps the next ones, byte exact', () => {
    const stream = Buffer.concat([frame(10, 1), frame(20, 2), frame(15, 3), frame(9, 4)]);
    expect(adtsFrames(stream)).toEqual([
      [0, 10],
      [10, 30],
      [30, 45],
      [45, 54],
    ]);
    expect(Buffer.from(keepAdtsFrames(stream, 1, 2))).toEqual(Buffer.concat([frame(20, 2), frame(15, 3)]));
    expect(() => keepAdtsFrames(stream, 2, 3)).toThrow(/made 4 frames; the chunk needs 5/);
    expect(() => adtsFrames(Buffer.from('not adts'))).toThrow(/not an ADTS stream/);
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
      [{ groupId: 'audio', uri: 'audio/index.m3u8', averageBandwidth: 130_000, peakBandwidth: 140_000 }],
    );
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"',
    );
    expect(master).toMatch(/BANDWIDTH=3640000,AVERAGE-BANDWIDTH=3130000,.*,AUDIO="audio"\n720p\/index\.m3u8/);
  });

  it("names each variant its own audio group when there are several, adding that group's bandwidth", () => {
    const plan = planLadder(source(60));
    const master = masterPlaylist(
      plan,
      [
        {
          name: '720p',
          playlistUri: '720p/index.m3u8',
          averageBandwidth: 3_000_000,
          peakBandwidth: 3_500_000,
          audioGroupId: 'audio-128k',
        },
        {
          name: '240p',
          playlistUri: '240p/index.m3u8',
          averageBandwidth: 400_000,
          peakBandwidth: 500_000,
          audioGroupId: 'audio-64k',
        },
      ],
      [
        {
          groupId: 'audio-128k',
          uri: 'audio/128k/index.m3u8',
          averageBandwidth: 130_000,
          peakBandwidth: 140_000,
        },
        {
          groupId: 'audio-64k',
          uri: 'audio/64k/index.m3u8',
          averageBandwidth: 66_000,
          peakBandwidth: 70_000,
        },
      ],
    );
    expect(master.match(/#EXT-X-MEDIA:TYPE=AUDIO/g)).toHaveLength(2);
    expect(master).toMatch(
      /BANDWIDTH=570000,AVERAGE-BANDWIDTH=466000,.*,AUDIO="audio-64k"\n240p\/index\.m3u8/,
    );
    expect(master).toMatch(
      /BANDWIDTH=3640000,AVERAGE-BANDWIDTH=3130000,.*,AUDIO="audio-128k"\n720p\/index\.m3u8/,
    );
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

describe('setEditListMediaTime', () => {
  it('starts presentation after the priming frame (moov/trak/edts/elst media_time)', () => {
    const box = (type: string, ...payload: Buffer[]) => {
      const body = Buffer.concat(payload);
      const header = Buffer.alloc(8);
      header.writeUInt32BE(8 + body.length);
      header.write(type, 4, 'latin1');
      return Buffer.concat([header, body]);
    };
    const elst = Buffer.alloc(16);
    elst.writeUInt32BE(1, 4);
    elst.writeUInt32BE(0x00010000, 12);
    const init = box('moov', box('trak', box('edts', box('elst', elst.subarray(0, 8), Buffer.alloc(8)))));
    // version 0, one entry: segment_duration 0, media_time 0 (then media_rate, not written here)
    expect(editListMediaTime(init)).toBe(0);
    setEditListMediaTime(init, 1024);
    expect(editListMediaTime(init)).toBe(1024);
    expect(() => setEditListMediaTime(box('moov'), 1024)).toThrow(/no edit list/);
  });
});

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
