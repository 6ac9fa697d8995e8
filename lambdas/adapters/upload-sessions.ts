import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UploadSession, UploadSessionStore } from '#core/uploads.ts';
import { config } from '#shared/config.ts';
import { stateTable } from '#shared/resources.ts';
import { dynamoDocumentClient } from './aws.ts';

/**
 * Upload sessions in the state table, under `upload#{id}`. DynamoDB's TTL removes an item a week after
 * its upload expired (so `GET` can still say "expired" meanwhile); expiry itself is decided by the
 * session's own `expiresAt`, checked on every read, since TTL deletion runs days late.
 */
const KEEP_AFTER_EXPIRY_SECONDS = 7 * 24 * 3600;
const key = (uploadId: string) => ({
  [stateTable.partitionKey]: `upload#${uploadId}`,
  [stateTable.sortKey]: 'session',
});

export class DynamoUploadSessions implements UploadSessionStore {
  private readonly table = config().stateTable;

  async put(session: UploadSession): Promise<void> {
    await dynamoDocumentClient().send(
      new PutCommand({
        TableName: this.table,
        // The session sits in one map attribute, apart from the table's key and TTL attributes.
        Item: {
          ...key(session.uploadId),
          session,
          [stateTable.ttlAttribute]: Math.ceil(session.expiresAt / 1000) + KEEP_AFTER_EXPIRY_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': stateTable.partitionKey },
      }),
    );
  }

  async get(uploadId: string): Promise<UploadSession | undefined> {
    const { Item } = await dynamoDocumentClient().send(
      new GetCommand({ TableName: this.table, Key: key(uploadId), ConsistentRead: true }),
    );
    return Item?.session as UploadSession | undefined;
  }

  async finish(uploadId: string, status: 'completed' | 'aborted'): Promise<boolean> {
    try {
      await dynamoDocumentClient().send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(uploadId),
          UpdateExpression: 'SET #session.#status = :status',
          ConditionExpression: '#session.#status = :uploading',
          ExpressionAttributeNames: { '#session': 'session', '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':uploading': 'uploading' },
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === 'ConditionalCheckFailedException'
      ) {
        return false;
      }
      throw error;
    }
  }
}
