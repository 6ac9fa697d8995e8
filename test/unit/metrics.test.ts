import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import {
  attemptMetrics,
  eventMetrics,
  metricDimensions,
  metricNames,
  metricNamespace,
} from '#core/metrics.ts';
import type { AttemptResult } from '#core/webhooks.ts';

const attempted = (succeeded: boolean, latencyMs: number | null = 120): AttemptResult => ({
  kind: 'attempted',
  deliveryId: '7f0c2f3e-4d1a-4b8e-9c51-2a6b9d3e8f10',
  attempt: 1,
  at: '2026-12-01T10:00:00.000Z',
  succeeded,
  statusCode: succeeded ? 200 : 500,
  latencyMs,
  responseExcerpt: null,
  error: null,
});

describe('metrics of domain events', () => {
  it('counts a ready video and how long its owner waited from the upload on', () => {
    expect(
      eventMetrics({
        type: 'video.ready',
        timestamp: '2026-12-01T10:01:30.000Z',
        data: { createdAt: '2026-12-01T10:00:00.000Z' },
      }),
    ).toEqual([
      { name: metricNames.videosReady, value: 1 },
      { name: metricNames.timeToReady, value: 90 },
    ]);
  });

  it('counts a ready video without a wait when the creation time is missing or later', () => {
    const at = '2026-12-01T10:00:00.000Z';
    expect(eventMetrics({ type: 'video.ready', timestamp: at, data: {} })).toEqual([
      { name: metricNames.videosReady, value: 1 },
    ]);
    expect(
      eventMetrics({ type: 'video.ready', timestamp: at, data: { createdAt: '2026-12-01T11:00:00.000Z' } }),
    ).toEqual([{ name: metricNames.videosReady, value: 1 }]);
  });

  it.each([
    ['video.created', metricNames.uploadsCreated],
    ['video.upload.completed', metricNames.uploadsCompleted],
    ['video.failed', metricNames.videosFailed],
  ])('counts %s as %s', (type, name) => {
    expect(eventMetrics({ type, timestamp: '2026-12-01T10:00:00.000Z', data: {} })).toEqual([
      { name, value: 1 },
    ]);
  });

  it('counts nothing for the other events', () => {
    for (const type of [
      'video.updated',
      'video.processing',
      'video.deleted',
      'upload.aborted',
      'webhook.test',
    ]) {
      expect(eventMetrics({ type, timestamp: '2026-12-01T10:00:00.000Z', data: {} })).toEqual([]);
    }
  });
});

describe('metrics of webhook attempts', () => {
  it('counts a successful attempt and its latency', () => {
    expect(attemptMetrics(attempted(true), 'succeeded')).toEqual([
      { name: metricNames.webhookAttempts, value: 1 },
      { name: metricNames.webhookLatency, value: 120 },
    ]);
  });

  it('counts a failed delivery only when its last attempt failed', () => {
    expect(attemptMetrics(attempted(false, null), 'retrying').map((p) => p.name)).toEqual([
      metricNames.webhookAttempts,
      metricNames.webhookAttemptsFailed,
    ]);
    expect(attemptMetrics(attempted(false, null), 'failed').map((p) => p.name)).toEqual([
      metricNames.webhookAttempts,
      metricNames.webhookAttemptsFailed,
      metricNames.webhookDeliveriesFailed,
    ]);
  });

  it('counts nothing for a result recorded before (a redelivered message) or a stale one', () => {
    expect(attemptMetrics(attempted(true), null)).toEqual([]);
    expect(
      attemptMetrics({ kind: 'stale', deliveryId: attempted(true).deliveryId, attempt: 1 }, null),
    ).toEqual([]);
  });
});

describe('the embedded metric format line', () => {
  // A fresh process, as a Lambda container: what Powertools writes to stdout is what CloudWatch reads,
  // and the dashboard (lib/constructs/dashboard.ts) queries exactly this namespace and these dimensions.
  const script = `
    import { recordMetrics } from '#adapters/metrics.ts';
    recordMetrics([{ name: 'VideosReady', value: 1 }, { name: 'TimeToReady', value: 42.5 }]);
    recordMetrics([]);
  `;
  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        // What every function is deployed with (the stage's config; only the stage matters here).
        VIDEOCLOUD_STAGE: 'prod',
        UPLOADS_BUCKET: 'uploads',
        MEDIA_BUCKET: 'media',
        STATE_TABLE: 'state',
        COGNITO_USER_POOL_ID: 'us-east-1_example',
        COGNITO_CLIENT_ID: 'client',
        DB_PROXY_HOST: 'proxy.internal',
        LOG_LEVEL: 'WARN',
        ...env,
      },
    });

  it('is one JSON line per record call with the namespace, the stage and the units', async () => {
    const { stdout } = await run({});
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
    };
    expect(emf._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: metricNamespace,
        Dimensions: [expect.arrayContaining(['service', 'Stage'])],
        Metrics: [
          { Name: 'VideosReady', Unit: 'Count' },
          { Name: 'TimeToReady', Unit: 'Seconds' },
        ],
      },
    ]);
    expect(emf).toMatchObject({
      service: metricDimensions.service,
      Stage: 'prod',
      VideosReady: 1,
      TimeToReady: 42.5,
    });
  });

  it('is not written where metrics are disabled (the local runtime)', async () => {
    const { stdout } = await run({ POWERTOOLS_METRICS_DISABLED: 'true' });
    expect(stdout.trim()).toBe('');
  });
});
