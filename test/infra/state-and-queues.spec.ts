import { describe, expect, test } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { consumerList, visibilityTimeoutSeconds } from '../../lambdas/events/consumers.ts';
import { stateTable } from '../../lambdas/shared/resources.ts';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('state table and queues (%s)', (stageName) => {
  const { statefulTemplate: template, stage } = buildStage(stageName);

  test('the state table uses the shared key schema, on-demand billing, PITR and the TTL attribute', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: stateTable.partitionKey, KeyType: 'HASH' },
        { AttributeName: stateTable.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: stateTable.ttlAttribute, Enabled: true },
      DeletionProtectionEnabled: stage.deletionProtection,
    });
    const [[, table]] = resourcesOfType(template, 'AWS::DynamoDB::Table') as [
      [string, { DeletionPolicy?: string }],
    ];
    expect(table.DeletionPolicy).toBe(stage.retainData ? 'Retain' : 'Delete');
  });

  const queues = resourcesOfType(template, 'AWS::SQS::Queue');
  const redriven = queues.filter(([, q]) => q.Properties?.RedrivePolicy);
  const deadLetterIds = new Set(
    redriven.map(
      ([, q]) =>
        (q.Properties!.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } })
          .deadLetterTargetArn['Fn::GetAtt'][0],
    ),
  );

  test('one work queue per consumer (consumers.ts), each with its own dead-letter queue', () => {
    expect(queues).toHaveLength(2 * consumerList.length);
    expect(redriven).toHaveLength(consumerList.length);
    expect(deadLetterIds.size).toBe(consumerList.length);
  });

  test.each(queues.map(([id]) => id))('%s is SSE-encrypted and accepts 256 KiB messages', (id) => {
    const props = template.findResources('AWS::SQS::Queue')[id]!.Properties;
    expect(props.SqsManagedSseEnabled).toBe(true);
    expect(props.MaximumMessageSize).toBe(262144);
  });

  test.each(queues.map(([id]) => id))('%s refuses requests without TLS', (id) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [id, 'Arn'] },
          },
        ]),
      },
    });
  });

  test('visibility timeout and maxReceiveCount of each work queue come from its consumer', () => {
    const actual = redriven
      .map(([, q]) => [
        q.Properties!.VisibilityTimeout,
        (q.Properties!.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
      ])
      .sort();
    const expected = consumerList.map((c) => [visibilityTimeoutSeconds(c), c.maxReceiveCount]).sort();
    expect(actual).toEqual(expected);
  });

  test('dead-letter queues keep messages for the 14-day maximum', () => {
    for (const id of deadLetterIds) {
      expect(template.findResources('AWS::SQS::Queue')[id]!.Properties.MessageRetentionPeriod).toBe(1209600);
    }
  });
});
