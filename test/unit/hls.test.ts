import { describe, expect, it } from '@jest/globals';
import { avcCodecFromInitSegment, masterPlaylist } from '#core/media/hls.ts';
import { planLadder } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';

const source: SourceFacts = {
  container: 'mov',
  durationSeconds: 30,
  width: 1280,
  height: 720,
  frameRate: 29.97,
  hasAudio: true,
  videoCodec: 'h264',
  audioCodec: 'aac',
  videoStreamIndex: 0,
  audioStreamIndex: 1,
};

const plan = planLadder(source);
const refs = plan.renditions.map((r) => ({ name: r.name, playlistUri: `${r.name}/index.m3u8` }));

describe('masterPlaylist', () => {
  it('declares fMP4-era HLS and independent segments up front', () => {
    const lines = masterPlaylist(plan, refs).split('\n');
    expect(lines.slice(0, 3)).toEqual(['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS']);
    expect(lines.at(-1)).toBe('');
  });

  it('lists every rendition, lowest first, each STREAM-INF followed by its URI', () => {
    const lines = masterPlaylist(plan, refs).split('\n').slice(3, -1);
    expect(lines).toEqual([
      '#EXT-X-STREAM-INF:BANDWIDTH=564000,AVERAGE-BANDWIDTH=464000,RESOLUTION=426x240,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970',
      '240p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=1096000,AVERAGE-BANDWIDTH=896000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=29.970',
      '360p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=1878000,AVERAGE-BANDWIDTH=1528000,RESOLUTION=854x480,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=29.970',
      '480p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=3878000,AVERAGE-BANDWIDTH=3128000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=29.970',
      '720p/index.m3u8',
    ]);
  });

  it('uses measured bandwidths when given, rounded up to whole bits per second', () => {
    const text = masterPlaylist(plan, [
      { name: '720p', playlistUri: 'a.m3u8', averageBandwidth: 2.5e6 + 0.2, peakBandwidth: 4e6 },
    ]);
    expect(text).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=4000000,AVERAGE-BANDWIDTH=2500001,RESOLUTION=1280x720',
    );
  });

  it('never declares a peak below the average', () => {
    const text = masterPlaylist(plan, [
      { name: '720p', playlistUri: 'a.m3u8', averageBandwidth: 3e6, peakBandwidth: 2e6 },
    ]);
    expect(text).toContain('BANDWIDTH=3000000,AVERAGE-BANDWIDTH=3000000');
  });

  it('has no audio codec for a silent source and three-decimal frame rates', () => {
    const silent = planLadder({ ...source, hasAudio: false, audioStreamIndex: undefined, frameRate: 25 });
    const text = masterPlaylist(silent, [{ name: '240p', playlistUri: '240p/index.m3u8' }]);
    expect(text).toContain('CODECS="avc1.64001e",FRAME-RATE=25.000');
  });

  it('refuses a rendition the plan does not have', () => {
    expect(() => masterPlaylist(plan, [{ name: '1080p', playlistUri: 'x.m3u8' }])).toThrow(/not in the plan/);
  });
});

describe('avcCodecFromInitSegment', () => {
  it('reads profile, constraint flags and level from the avcC box', () => {
    // ...size, 'avcC', configurationVersion 1, profile 0x42 (Baseline), flags 0xc0, level 0x1e (3.0)...
    const init = Buffer.concat([
      Buffer.from([0, 0, 0, 0x2f]),
      Buffer.from('avcC'),
      Buffer.from([1, 0x42, 0xc0, 0x1e, 0xff]),
    ]);
    expect(avcCodecFromInitSegment(init)).toBe('avc1.42c01e');
    expect(avcCodecFromInitSegment(Buffer.from('ftypisom'))).toBeUndefined();
  });

  it('overrides the planned CODECS in the master when measured', () => {
    const text = masterPlaylist(plan, [
      { name: '240p', playlistUri: 'a.m3u8', codecs: 'avc1.42c01e,mp4a.40.2' },
    ]);
    expect(text).toContain('CODECS="avc1.42c01e,mp4a.40.2"');
  });
});
