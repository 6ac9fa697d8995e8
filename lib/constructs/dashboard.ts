import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  type MetricName,
  metricDimensions,
  metricNames,
  metricNamespace,
  metricUnits,
} from '../../lambdas/core/metrics.ts';
import type { AppFunction } from './app-function.ts';
import type { QueuePair } from './queues.ts';

export interface OperationsDashboardProps {
  readonly stageName: string;
  readonly restApi: apigateway.RestApi;
  /** Every work queue with its DLQ, as Queues.byQueueName holds them. */
  readonly queues: ReadonlyMap<string, QueuePair>;
  /** The functions whose errors and durations an operator watches, by name. */
  readonly functions: ReadonlyMap<string, AppFunction>;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 24;

/**
 * The stage's one CloudWatch dashboard `VideoCloud-<stage>`: the product's own metrics (core/metrics.ts,
 * written by the functions as embedded metric format, so no API call or permission is involved), the
 * API's traffic, 5xx and p99 latency, every queue's backlog and dead-letter depth, the pipeline
 * functions' errors and durations, and the state of every alarm. Metric names, units, namespace and
 * dimensions come from core/metrics.ts, so a renamed metric cannot leave an empty graph behind.
 */
export class OperationsDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { restApi, queues, functions, alarms, stageName } = props;
    const app = (name: MetricName, statistic: string, label?: string) =>
      new cloudwatch.Metric({
        namespace: metricNamespace,
        metricName: name,
        dimensionsMap: { ...metricDimensions, Stage: stageName },
        statistic,
        period: PERIOD,
        label: label ?? `${name} (${metricUnits[name]}, ${statistic})`,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], width = WIDTH / 3) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const pairs = [...queues.values()];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `VideoCloud-${stageName}`,
      defaultInterval: Duration.hours(24),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: WIDTH, height: 3 })],
        [
          graph('Uploads and videos', [
            app(metricNames.uploadsCreated, 'Sum', 'uploads created'),
            app(metricNames.uploadsCompleted, 'Sum', 'uploads completed'),
            app(metricNames.videosReady, 'Sum', 'videos ready'),
            app(metricNames.videosFailed, 'Sum', 'videos failed'),
          ]),
          graph('Time to ready (s, upload included)', [
            app(metricNames.timeToReady, 'p50', 'p50'),
            app(metricNames.timeToReady, 'p90', 'p90'),
            app(metricNames.timeToReady, 'Maximum', 'max'),
          ]),
          graph('Transcode seconds', [
            app(metricNames.transcodeSeconds, 'Sum', 'sum (compute spent)'),
            app(metricNames.transcodeSeconds, 'p90', 'p90 per attempt'),
          ]),
        ],
        [
          graph('API requests and errors', [
            restApi.metricCount({ period: PERIOD, label: 'requests' }),
            restApi.metricClientError({ period: PERIOD, label: '4xx' }),
            restApi.metricServerError({ period: PERIOD, label: '5xx' }),
          ]),
          graph('API latency (ms)', [
            restApi.metricLatency({ period: PERIOD, statistic: 'p50', label: 'p50' }),
            restApi.metricLatency({ period: PERIOD, statistic: 'p99', label: 'p99' }),
            restApi.metricIntegrationLatency({ period: PERIOD, statistic: 'p99', label: 'integration p99' }),
          ]),
          graph('Webhook deliveries', [
            app(metricNames.webhookAttempts, 'Sum', 'attempts'),
            app(metricNames.webhookAttemptsFailed, 'Sum', 'failed attempts'),
            app(metricNames.webhookDeliveriesFailed, 'Sum', 'deliveries failed (all attempts)'),
            app(metricNames.webhookLatency, 'p90', 'latency p90 (ms)'),
          ]),
        ],
        [
          graph(
            'Dead-letter queue depth (messages that failed every retry)',
            pairs.map(({ consumer, deadLetterQueue }) =>
              deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                statistic: 'Maximum',
                label: consumer.queue,
              }),
            ),
            WIDTH / 2,
          ),
          graph(
            'Queue backlog: age of the oldest message (s)',
            pairs.map(({ consumer, queue }) =>
              queue.metricApproximateAgeOfOldestMessage({
                period: PERIOD,
                statistic: 'Maximum',
                label: consumer.queue,
              }),
            ),
            WIDTH / 2,
          ),
        ],
        [
          graph(
            'Function errors',
            [...functions].map(([name, fn]) =>
              fn.function.metricErrors({ period: PERIOD, statistic: 'Sum', label: name }),
            ),
            WIDTH / 2,
          ),
          graph(
            'Function duration p99 (ms)',
            [...functions].map(([name, fn]) =>
              fn.function.metricDuration({ period: PERIOD, statistic: 'p99', label: name }),
            ),
            WIDTH / 2,
          ),
        ],
      ],
    });
  }
}
