import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import type { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { metricDimensions, metricNames, metricNamespace } from '../../lambdas/core/metrics.ts';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('operations dashboard (%s)', (stageName) => {
  const { stateful, stateless, statelessTemplate: template, stage } = buildStage(stageName);
  const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');
  // The body is a Fn::Join of literal JSON and references; its string form shows both.
  const body = JSON.stringify(dashboards[0]?.[1].Properties?.DashboardBody);

  test('is one dashboard named for the stage', () => {
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]![1].Properties!.DashboardName).toBe(`VideoCloud-${stage.name}`);
  });

  test('draws every product metric in the namespace and with the dimensions the functions write', () => {
    for (const name of Object.values(metricNames)) {
      expect(body).toContain(
        `[\\"${metricNamespace}\\",\\"${name}\\",\\"Stage\\",\\"${stage.name}\\",\\"service\\",\\"${metricDimensions.service}\\"`,
      );
    }
  });

  test("draws the API's 5xx and p99 latency", () => {
    expect(body).toContain('\\"AWS/ApiGateway\\",\\"5XXError\\"');
    expect(body).toMatch(/\\"AWS\/ApiGateway\\",\\"Latency\\".*\\"stat\\":\\"p99\\"/);
  });

  test('draws the depth of every dead-letter queue', () => {
    for (const pair of stateful.queues.byQueueName.values()) {
      const dlq = Stack.of(stateful).getLogicalId(pair.deadLetterQueue.node.defaultChild as CfnQueue);
      expect(body).toContain(`ApproximateNumberOfMessagesVisible\\",\\"QueueName\\",\\"`);
      expect(body).toContain(dlq);
    }
  });

  test('shows the state of every pipeline alarm', () => {
    expect(stateless.pipeline.alarms.alarms.length).toBeGreaterThan(0);
    for (const alarm of stateless.pipeline.alarms.alarms) {
      expect(body).toContain(Stack.of(stateless).getLogicalId(alarm.node.defaultChild as never));
    }
  });
});

describe.each(['dev', 'prod'] as const)('stack size (%s)', (stageName) => {
  const { statefulTemplate, statelessTemplate } = buildStage(stageName);
  // CloudFormation refuses a stack of more than 500 resources: a deploy that worked yesterday fails
  // at the function that crossed it. Kept well below, so a new feature moves functions to a stack of
  // their own before it gets there.
  test.each([
    ['stateful', statefulTemplate],
    ['stateless', statelessTemplate],
  ])('%s stays below 90%% of the 500-resource limit', (_name, template) => {
    expect(Object.keys(template.toJSON().Resources as object).length).toBeLessThan(450);
  });
});
