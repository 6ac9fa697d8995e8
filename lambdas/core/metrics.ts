import { serviceName } from '#shared/resources.ts';
import type { AttemptResult } from './webhooks.ts';

/**
 * The product's own metrics: what an operator watches (the stage dashboard, lib/constructs/dashboard.ts,
 * draws each of these by name). Each name is defined here once; the functions that know the fact emit
 * it (adapters/metrics.ts writes CloudWatch's embedded metric format to the function's log), and the
 * functions here only decide what a fact is worth, so they are tested without any of that.
 */
export const metricNamespace = 'VideoCloud';
/** Every point carries these; the stage's own is added as `Stage` (so stages share one namespace). */
export const metricDimensions = { service: serviceName } as const;

export const metricNames = {
  uploadsCreated: 'UploadsCreated',
  uploadsCompleted: 'UploadsCompleted',
  videosReady: 'VideosReady',
  videosFailed: 'VideosFailed',
  /** From the video's creation (the upload began) to ready: what a user waits, upload included. */
  timeToReady: 'TimeToReady',
  /** Wall time of one transcode attempt, from its first read of the source to its last write. */
  transcodeSeconds: 'TranscodeSeconds',
  webhookAttempts: 'WebhookAttempts',
  webhookAttemptsFailed: 'WebhookAttemptsFailed',
  /** Deliveries that failed their last scheduled attempt: the endpoint's owner never got the event. */
  webhookDeliveriesFailed: 'WebhookDeliveriesFailed',
  webhookLatency: 'WebhookLatency',
} as const;
export type MetricName = (typeof metricNames)[keyof typeof metricNames];

/** CloudWatch's unit names, the ones these metrics use. */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds';
export const metricUnits: Record<MetricName, MetricUnit> = {
  UploadsCreated: 'Count',
  UploadsCompleted: 'Count',
  VideosReady: 'Count',
  VideosFailed: 'Count',
  TimeToReady: 'Seconds',
  TranscodeSeconds: 'Seconds',
  WebhookAttempts: 'Count',
  WebhookAttemptsFailed: 'Count',
  WebhookDeliveriesFailed: 'Count',
  WebhookLatency: 'Milliseconds',
};

export interface MetricPoint {
  name: MetricName;
  value: number;
}

/** What a domain event counts for (events reach the fan-out once each, so it emits these). */
export function eventMetrics(event: {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}): MetricPoint[] {
  switch (event.type) {
    case 'video.created':
      return [{ name: metricNames.uploadsCreated, value: 1 }];
    case 'video.upload.completed':
      return [{ name: metricNames.uploadsCompleted, value: 1 }];
    case 'video.failed':
      return [{ name: metricNames.videosFailed, value: 1 }];
    case 'video.ready': {
      const created =
        typeof event.data.createdAt === 'string' ? Date.parse(event.data.createdAt) : Number.NaN;
      const waited = (Date.parse(event.timestamp) - created) / 1000;
      return [
        { name: metricNames.videosReady, value: 1 },
        ...(Number.isFinite(waited) && waited >= 0 ? [{ name: metricNames.timeToReady, value: waited }] : []),
      ];
    }
    default:
      return [];
  }
}

/** What one recorded webhook attempt counts for; `settled` is where the delivery stands after it. */
export function attemptMetrics(
  result: AttemptResult,
  settled: 'succeeded' | 'retrying' | 'failed' | null,
): MetricPoint[] {
  if (result.kind !== 'attempted' || settled === null) return [];
  return [
    { name: metricNames.webhookAttempts, value: 1 },
    ...(result.succeeded ? [] : [{ name: metricNames.webhookAttemptsFailed, value: 1 }]),
    ...(settled === 'failed' ? [{ name: metricNames.webhookDeliveriesFailed, value: 1 }] : []),
    ...(result.latencyMs !== null ? [{ name: metricNames.webhookLatency, value: result.latencyMs }] : []),
  ];
}
