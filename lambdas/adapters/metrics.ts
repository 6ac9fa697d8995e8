import { Metrics } from '@aws-lambda-powertools/metrics';
import { type MetricPoint, metricDimensions, metricNamespace, metricUnits } from '#core/metrics.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';

/**
 * Emits metric points as CloudWatch's embedded metric format (Powertools Metrics): one JSON line on the
 * function's stdout, which Lambda's log pipeline turns into CloudWatch metrics with no API call, no
 * permission and no latency added to the work. Points are written when they are recorded, so a function
 * that dies later still has them counted. The local runtime disables the EMF line
 * (POWERTOOLS_METRICS_DISABLED); each point is logged at debug level there as everywhere.
 */
let metrics: Metrics | undefined;

function emitter(): Metrics {
  metrics ??= new Metrics({
    namespace: metricNamespace,
    serviceName: metricDimensions.service,
    defaultDimensions: { Stage: config().stage },
    logger,
  });
  return metrics;
}

export function recordMetrics(points: readonly MetricPoint[]): void {
  if (points.length === 0) return;
  const out = emitter();
  for (const { name, value } of points) {
    out.addMetric(name, metricUnits[name], value);
    logger.debug('metric', { metric: name, value, unit: metricUnits[name] });
  }
  out.publishStoredMetrics();
}
