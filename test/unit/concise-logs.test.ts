import { describe, expect, it } from '@jest/globals';
import { conciseLine } from '#local/concise-logs.ts';

describe('concise local log lines', () => {
  it('prints a Powertools log item as time, level, message and its own fields', () => {
    const item = {
      level: 'INFO',
      message: 'transcoded',
      sampling_rate: 0,
      service: 'videocloud',
      timestamp: '2026-12-01T12:31:08.123Z',
      xray_trace_id: '1-abc',
      requestId: 'f7add6c4',
      videoId: 'cf4b257f',
      outcome: 'ready (360p, 240p)',
      work: { frames: 120 },
    };
    expect(conciseLine(JSON.stringify(item, null, 4))).toBe(
      '12:31:08 INFO  transcoded videoId=cf4b257f outcome=ready (360p, 240p) work={"frames":120}',
    );
  });

  it('leaves anything that is not a log item alone', () => {
    expect(conciseLine('VideoCloud local ready at http://localhost:3000')).toBeUndefined();
    expect(conciseLine('{not json')).toBeUndefined();
    expect(conciseLine('{"a":1}')).toBeUndefined();
  });
});
