import { describe, expect, it } from '@jest/globals';
import { conciseLine } from '#local/concise-logs.ts';
import { invoke, runningFunction } from '#local/invocations.ts';

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

  it("names a line by the invocation it was logged in, and keeps a request's keys off a worker's line", () => {
    // The shared logger still holds the last request's context and the route of one running beside.
    const item = JSON.stringify({
      level: 'INFO',
      message: 'transcoded',
      timestamp: '2026-12-01T12:31:08.123Z',
      function_name: 'api-videos-get',
      route: 'GET /v1/videos/{videoId}',
      videoId: 'cf4b257f',
    });
    expect(conciseLine(item, 'transcode')).toBe('12:31:08 INFO  transcode transcoded videoId=cf4b257f');
    expect(conciseLine(item, 'api-videos-list')).toBe(
      '12:31:08 INFO  api-videos-list transcoded route=GET /v1/videos/{videoId} videoId=cf4b257f',
    );
    expect(conciseLine(item)).toBe(
      '12:31:08 INFO  api-videos-get transcoded route=GET /v1/videos/{videoId} videoId=cf4b257f',
    );
  });

  it('keeps each overlapping invocation its own name across awaits', async () => {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const seen: string[] = [];
    const run = (name: string) =>
      invoke(name, async () => {
        for (let i = 0; i < 3; i++) {
          await tick();
          seen.push(`${name}:${runningFunction()}`);
        }
      });
    await Promise.all([run('transcode'), run('api-videos-get')]);
    expect(seen.filter((s) => s !== 'transcode:transcode' && s !== 'api-videos-get:api-videos-get')).toEqual(
      [],
    );
    expect(seen).toHaveLength(6);
    expect(runningFunction()).toBeUndefined();
  });
});
