import { describe, expect, test } from '@jest/globals';
import { stateTable } from '../../lambdas/shared/resources.ts';
import { MAX_RECEIVE_COUNT } from '../../lib/constructs/queues.ts';
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

  test('two work queues, each with its own dead-letter queue', () => {
    expect(queues).toHaveLength(4);
    expect(redriven).toHaveLength(2);
    expect(deadLetterIds.size).toBe(2);
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
        Statement: [
          {
            Effect: 'Deny',
            Action: 'sqs:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { 'Fn::GetAtt': [id, 'Arn'] },
          },
        ],
      },
    });
  });

  test(`work queues move a message to their DLQ after ${MAX_RECEIVE_COUNT} receives`, () => {
    for (const [, queue] of redriven) {
      expect((queue.Properties!.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(5);
    }
  });

  test('dead-letter queues keep messages for the 14-day maximum', () => {
    for (const id of deadLetterIds) {
      expect(template.findResources('AWS::SQS::Queue')[id]!.Properties.MessageRetentionPeriod).toBe(1209600);
    }
  });
});
