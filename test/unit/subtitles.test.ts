import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { withSubtitles } from '#core/media/hls.ts';
import { CAPTION_LIMITS, parseCaptions, toWebVtt } from '#core/media/subtitles.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const parse = (text: string, format: 'vtt' | 'srt', durationSeconds = 60) =>
  parseCaptions(bytes(text), format, { durationSeconds });

describe('SRT and WebVTT in, one clean WebVTT out', () => {
  test('an SRT file becomes WebVTT with the same cues', () => {
    const srt =
      '1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\nthere\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nBye\r\n';
    const parsed = parse(srt, 'srt');
    expect(parsed).toEqual({
      ok: true,
      cues: [
        { start: 1, end: 2.5, settings: '', text: 'Hello\nthere' },
        { start: 3, end: 4, settings: '', text: 'Bye' },
      ],
    });
    expect(toWebVtt((parsed as Extract<typeof parsed, { ok: true }>).cues)).toBe(
      'WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\nthere\n\n00:00:03.000 --> 00:00:04.000\nBye\n',
    );
  });

  test('WebVTT: identifiers, notes, styles and regions go; valid cue settings stay, others are dropped', () => {
    const vtt = [
      'WEBVTT - a title',
      'Kind: captions',
      '',
      'STYLE',
      '::cue { background: url(https://tracker.example/x.png) }',
      '',
      'NOTE a comment',
      '',
      'intro',
      '00:01.000 --> 00:02.000 align:start line:90% evil:1 position:10%,line-left',
      '<v Roger>Hi</v> <c.loud>there</c>',
    ].join('\n');
    const parsed = parse(vtt, 'vtt');
    expect(parsed).toEqual({
      ok: true,
      cues: [{ start: 1, end: 2, settings: 'align:start line:90% position:10%,line-left', text: 'Hi there' }],
    });
  });

  test('markup cannot get through: only <b>, <i>, <u> survive, closed; the rest is escaped text', () => {
    const parsed = parse(
      '1\n00:00:01,000 --> 00:00:02,000\n<b>bold <script>alert(1)</script> <img src=x onerror=alert(1)> & --> 5 > 3 &lt;ok&gt;\n<i>open\n',
      'srt',
    );
    expect(parsed.ok).toBe(true);
    const [cue] = (parsed as { cues: Array<{ text: string }> }).cues;
    expect(cue!.text).toBe('<b>bold alert(1)  &amp; --&gt; 5 &gt; 3 &lt;ok&gt;</b>\n<i>open</i>');
  });

  test('a line that is only dropped tags does not split the cue', () => {
    const parsed = parse('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n<c.x></c>\nworld <b>bold\n', 'vtt');
    expect(parsed).toEqual({
      ok: true,
      cues: [{ start: 1, end: 2, settings: '', text: 'hello\nworld <b>bold</b>' }],
    });
  });

  test('any text in, never a tag out but b/i/u, never "-->" or a blank line in a payload (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }), { minLength: 1, maxLength: 4 }), (texts) => {
        const lines = texts.map((text) => text.replace(/[\r\n]/g, ' ').trim()).filter(Boolean);
        if (lines.length === 0) return;
        const parsed = parse(`WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n${lines.join('\n')}\n`, 'vtt');
        if (!parsed.ok) return;
        for (const cue of parsed.cues) {
          expect(cue.text).not.toContain('-->');
          expect(cue.text.split('\n').every((line) => line.trim() !== '')).toBe(true);
          expect(cue.text.replace(/<\/?[biu]>/g, '')).not.toMatch(/[<>]/);
        }
      }),
    );
  });
});

describe('broken files fail with a reason that names where', () => {
  test.each([
    ['empty', '', 'srt', /empty/],
    ['not WebVTT', 'hello\n', 'vtt', /first line must be "WEBVTT"/],
    ['a bad timing', '1\n00:00:01 --> 00:00:02\nx\n', 'srt', /line 2: .* is not a cue timing/],
    ['backwards', '1\n00:00:05,000 --> 00:00:02,000\nx\n', 'srt', /cue 1 \(line 2\) ends before it starts/],
    ['no timing at all', 'WEBVTT\n\njust text\nmore\n', 'vtt', /line 3: expected a cue timing/],
    [
      'past the end of the video',
      '1\n01:02:03,000 --> 01:02:04,000\nx\n',
      'srt',
      /cue 1 starts at 01:02:03.000, after the video ends/,
    ],
    ['no cues', 'WEBVTT\n\nNOTE only a note\n', 'vtt', /no cues found/],
  ] as const)('%s', (_name, text, format, reason) => {
    expect(parse(text, format)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  test('not UTF-8, NUL bytes, too big, too many lines', () => {
    expect(parseCaptions(new Uint8Array([0xff, 0xfe, 0x41]), 'srt', { durationSeconds: 10 })).toEqual({
      ok: false,
      reason: expect.stringMatching(/not UTF-8/),
    });
    expect(parse('1\n00:00:01,000 --> 00:00:02,000\na\u0000b\n', 'srt')).toEqual({
      ok: false,
      reason: expect.stringMatching(/NUL/),
    });
    expect(
      parseCaptions(new Uint8Array(CAPTION_LIMITS.maxBytes + 1), 'srt', { durationSeconds: 10 }),
    ).toEqual({
      ok: false,
      reason: expect.stringMatching(/limit/),
    });
    const tall = `1\n00:00:01,000 --> 00:00:02,000\n${'x\n'.repeat(CAPTION_LIMITS.maxCueLines + 1)}`;
    expect(parse(tall, 'srt')).toEqual({ ok: false, reason: expect.stringMatching(/has 9 lines/) });
  });
});

describe('subtitle renditions in the master playlist', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240',
    '240p/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360',
    '360p/index.m3u8',
    '',
  ].join('\n');

  test('adds one EXT-X-MEDIA per track and names the group on every variant', () => {
    const out = withSubtitles(master, [
      { uri: 'captions/a.m3u8', language: 'en', name: 'English' },
      { uri: 'captions/b.m3u8', language: 'fr', name: 'Fran"çais' },
    ]);
    expect(out.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="captions/a.m3u8"',
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Fran\'çais",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="captions/b.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=426x240,SUBTITLES="subs"',
      '240p/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,SUBTITLES="subs"',
      '360p/index.m3u8',
      '',
    ]);
  });

  test('is idempotent, and with no tracks gives back the playlist without captions', () => {
    const tracks = [{ uri: 'captions/a.m3u8', language: 'en', name: 'English' }];
    const once = withSubtitles(master, tracks);
    expect(withSubtitles(once, tracks)).toBe(once);
    expect(withSubtitles(once, [])).toBe(master);
  });

  test('duplicate names get a number: players list every track', () => {
    const out = withSubtitles(master, [
      { uri: 'captions/a.m3u8', language: 'en', name: 'English' },
      { uri: 'captions/b.m3u8', language: 'en', name: 'English' },
    ]);
    expect(out).toContain('NAME="English",');
    expect(out).toContain('NAME="English (2)",');
  });
});
