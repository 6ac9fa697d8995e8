import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { AppFunction } from '../../lib/constructs/app-function.ts';
import { buildStage, resourcesOfType, statementsOfRole } from './app.ts';

/**
 * The webhook path's infrastructure, pinned: who may reach what. The sender is the only function that
 * talks to webhook endpoints, so it is outside the VPC with no database, secret or data grant at all;
 * the bus publisher likewise; the VPC functions (fan-out, recorder, dispatcher) send to the next queue
 * only; API functions other than test and redelivery cannot send an attempt.
 */
describe.each(['dev', 'prod'] as const)('webhooks and events (%s)', (stageName) => {
  const { stateful, stateless, statefulTemplate, statelessTemplate: template } = buildStage(stageName);
  const pipeline = stateless.pipeline;
  const logicalId = (construct: { node: { defaultChild?: unknown } }, stack = stateless) =>
    Stack.of(stack).getLogicalId(construct.node.defaultChild as CfnFunction);
  const props = (fn: AppFunction) =>
    template.findResources('AWS::Lambda::Function')[logicalId(fn.function)]!.Properties;
  const statementsOf = (fn: AppFunction) => statementsOfRole(template, stateless, fn.role);
  const actionsOf = (fn: AppFunction) => statementsOf(fn).flatMap((s) => [s.Action].flat());
  /** The queues a function may send to, by their logical id in the stateful stack. */
  const sendsTo = (fn: AppFunction) =>
    statementsOf(fn)
      .filter((s) => [s.Action].flat().includes('sqs:SendMessage'))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r).match(/Queues(\w+?)[0-9A-F]{8}Arn/)?.[1] ?? JSON.stringify(r))
      .sort();
  const fn = (entry: string) => pipeline.consumers.get(entry) ?? pipeline.scheduled.functions.get(entry)!;

  test('the bus VideoCloud-<stage> exists and is an output of the stack', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `VideoCloud-${stageName}` });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.EventBusName?.Value).toEqual({ Ref: logicalId(pipeline.eventBus) });
    expect(outputs.EventBusArn).toBeDefined();
  });

  test('the sender: outside the VPC, no database, no secret, no bucket, no table; sends results and its DLQ only', () => {
    const sender = fn('webhook-sender');
    expect(props(sender).VpcConfig).toBeUndefined();
    const actions = actionsOf(sender);
    for (const prefix of ['rds-db:', 'secretsmanager:', 's3:', 'dynamodb:', 'events:', 'kms:'])
      expect(actions.filter((a) => a.startsWith(prefix))).toEqual([]);
    expect(sendsTo(sender)).toEqual(['WebhookDeliveriesDlq', 'WebhookResults']);
    const variables = props(sender).Environment.Variables as Record<string, unknown>;
    expect(variables).not.toHaveProperty('PLAYBACK_KEY_SECRET_ARN');
    expect(variables).toHaveProperty('WEBHOOK_DELIVERIES_DLQ_URL');
  });

  test('no deployed function may send webhooks to loopback (the local-only WEBHOOK_ALLOW_LOOPBACK_HTTP)', () => {
    for (const [, f] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const variables =
        (f.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
      expect(variables).not.toHaveProperty('WEBHOOK_ALLOW_LOOPBACK_HTTP');
    }
  });

  test('the bus publisher: outside the VPC, PutEvents on this bus only', () => {
    const publisher = fn('event-bus');
    expect(props(publisher).VpcConfig).toBeUndefined();
    const put = statementsOf(publisher).filter((s) => [s.Action].flat().some((a) => a.startsWith('events:')));
    expect(put).toHaveLength(1);
    expect(put[0]!.Action).toBe('events:PutEvents');
    expect(put[0]!.Resource).toEqual({ 'Fn::GetAtt': [logicalId(pipeline.eventBus), 'Arn'] });
    expect(props(publisher).Environment.Variables.EVENT_BUS_NAME).toEqual({
      Ref: logicalId(pipeline.eventBus),
    });
    expect(actionsOf(publisher).some((a) => a.startsWith('rds-db:'))).toBe(false);
  });

  test('the fan-out, recorder and dispatcher run in the VPC with the database, and send on to the next queue only', () => {
    for (const entry of ['webhook-fanout', 'webhook-recorder', 'webhook-dispatcher']) {
      expect(props(fn(entry)).VpcConfig).toBeDefined();
      expect(actionsOf(fn(entry))).toContain('rds-db:connect');
    }
    expect(sendsTo(fn('webhook-fanout'))).toEqual(['EventBus', 'WebhookDeliveries']);
    expect(sendsTo(fn('webhook-recorder'))).toEqual(['WebhookDeliveries']);
    expect(sendsTo(fn('webhook-dispatcher'))).toEqual(['WebhookDeliveries']);
    // The fan-out makes playback URLs for ready videos: the signing key, read-only.
    expect(actionsOf(fn('webhook-fanout'))).toContain('secretsmanager:GetSecretValue');
  });

  test('functions that change videos hand their events to the webhook-events queue; the relay to every topic queue', () => {
    for (const entry of ['ingest', 'transcode']) expect(sendsTo(fn(entry))).toContain('WebhookEvents');
    // video.ready writes a derivatives.requested row beside its event, which the fast path hands on too.
    expect(sendsTo(fn('transcode'))).toEqual(['Derivatives', 'WebhookEvents']);
    const status = pipeline.mediaConvert.statusFunction;
    expect(sendsTo(status)).toEqual(['Derivatives', 'WebhookEvents']);
    expect(sendsTo(fn('derivatives'))).toEqual(['Derivatives', 'WebhookEvents']);
    expect(sendsTo(fn('outbox-relay'))).toEqual(['Captions', 'Derivatives', 'EdgeSync', 'WebhookEvents']);
    for (const entry of ['uploads-create', 'uploads-complete', 'uploads-abort']) {
      expect(sendsTo(stateless.api.functions.get(entry)!)).toEqual(['WebhookEvents']);
    }
    expect(sendsTo(stateless.api.functions.get('videos-update')!)).toEqual([
      'Derivatives',
      'EdgeSync',
      'WebhookEvents',
    ]);
  });

  test('of the webhook API functions, only test and redelivery may send an attempt', () => {
    for (const [entry, f] of stateless.api.functions) {
      if (!entry.startsWith('webhooks-')) continue;
      const expected = ['webhooks-test', 'webhooks-deliveries-retry'].includes(entry)
        ? ['WebhookDeliveries']
        : [];
      expect({ entry, sends: sendsTo(f) }).toEqual({ entry, sends: expected });
      expect(props(f).VpcConfig).toBeDefined();
    }
  });

  test('the deliveries DLQ (failed final attempts, crashed sends) has an alarm, and so have sender errors', () => {
    const dlq = Stack.of(stateful).getLogicalId(
      stateful.queues.webhookDeliveries.deadLetterQueue.node.defaultChild as unknown as CfnRole,
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::ImportValue': Match.stringLikeRegexp(`${dlq}QueueName`) } },
      ],
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fn('webhook-sender').function) } }],
    });
    // Its retention leaves an operator time (the deliveries queue itself keeps 4 days: the whole schedule).
    expect(statefulTemplate.findResources('AWS::SQS::Queue')[dlq]!.Properties.MessageRetentionPeriod).toBe(
      1209600,
    );
  });
});
