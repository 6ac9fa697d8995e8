import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { config } from '#shared/config.ts';
import { stateTable } from '#shared/resources.ts';
import { dynamoClient } from './aws.ts';

/**
 * Powertools idempotency records in the shared state table: one partition per worker, the idempotency
 * key as sort key, expiring through the table's TTL attribute. `expiresAfterSeconds` bounds how long a
 * duplicate is recognised; S3 redeliveries arrive within minutes, a day is ample.
 */
export function idempotencyStore(worker: string) {
  return new DynamoDBPersistenceLayer({
    tableName: config().stateTable,
    keyAttr: stateTable.partitionKey,
    sortKeyAttr: stateTable.sortKey,
    staticPkValue: `idempotency#${worker}`,
    expiryAttr: stateTable.ttlAttribute,
    awsSdkV3Client: dynamoClient(),
  });
}

export const idempotencyConfig = (eventKeyJmesPath: string) =>
  new IdempotencyConfig({ eventKeyJmesPath, expiresAfterSeconds: 24 * 3600, throwOnNoIdempotencyKey: true });
