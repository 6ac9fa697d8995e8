import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { stateTable } from '#shared/resources.ts';

export interface LocalDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite in-process, persisted under `directory`, with the state table created from the same key
 * definition the CDK app uses. dynalite has no TTL: readers check expiry themselves (as they must in the
 * cloud too, since DynamoDB deletes expired items lazily).
 */
export async function startLocalDynamo(options: {
  directory: string;
  tableName: string;
}): Promise<LocalDynamo> {
  mkdirSync(options.directory, { recursive: true });
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: options.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: stateTable.partitionKey, AttributeType: 'S' },
          { AttributeName: stateTable.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: stateTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: stateTable.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
