import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../stage-config.ts';
import { type AppFunction, pascalCase } from './app-function.ts';

export interface PipelineAlarmsProps {
  readonly stage: StageConfig;
  readonly deadLetterQueues: ReadonlyArray<{ name: string; queue: sqs.IQueue }>;
  readonly extraDeadLetterQueues?: ReadonlyArray<{ name: string; queue: sqs.IQueue }>;
  readonly failingFunctions: ReadonlyArray<{ name: string; fn: AppFunction }>;
}

/**
 * Alarms to an SNS topic (KMS-encrypted with a key CloudWatch may use, TLS-only): any message in a
 * dead-letter queue (work that failed every retry and needs an operator), and any error of the
 * transcode function (a failed transcode is retried, but errors there mean minutes of compute lost).
 * Subscribe an address or a chat integration to `topic` after deploying.
 */
export class PipelineAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: `VideoCloud ${props.stage.name}: encrypts the pipeline alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to an encrypted topic only when the key lets CloudWatch use it.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `VideoCloud ${props.stage.name} pipeline alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    const action = new cwActions.SnsAction(this.topic);

    for (const { name, queue } of [...props.deadLetterQueues, ...(props.extraDeadLetterQueues ?? [])]) {
      const alarm = new cloudwatch.Alarm(this, `Dlq${pascalCase(name)}`, {
        alarmDescription: `Messages in the ${name} dead-letter queue: they failed every retry; inspect and redrive.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    }
    for (const { name, fn } of props.failingFunctions) {
      const alarm = new cloudwatch.Alarm(this, `Errors${pascalCase(name)}`, {
        alarmDescription: `The ${name} function failed (error or timeout); see its log group.`,
        metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    }
  }
}
