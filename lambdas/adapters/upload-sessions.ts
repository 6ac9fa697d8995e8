import type { UploadSession, UploadSessionStore } from '#core/uploads.ts';
import { config } from '#shared/config.ts';
import { stateTable } from '#shared/resources.ts';
import { awsJsonCall } from './aws-json.ts';
import { type AttributeValue, fromAttribute, type Plain, toItem } from './dynamo-item.ts';

/**
 * Upload sessions in the state table, under `upload#{id}`. DynamoDB's TTL removes an item a week after
 * its upload expired (so `GET` can still say "expired" meanwhile); expiry itself is decided by the
 * session's own `expiresAt`, checked on every read, since TTL deletion runs days late. The calls go
 * over aws-json.ts (one signed request each, no DynamoDB client in the upload functions' bundles).
 */
const KEEP_AFTER_EXPIRY_SECONDS = 7 * 24 * 3600;
const key = (uploadId: string) =>
  toItem({ [stateTable.partitionKey]: `upload#${uploadId}`, [stateTable.sortKey]: 'session' });

const isConditionFailure = (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException';

export class DynamoUploadSessions implements UploadSessionStore {
  private readonly table = config().stateTable;

  async put(session: UploadSession): Promise<void> {
    await awsJsonCall('dynamodb', 'PutItem', {
      TableName: this.table,
      // The session sits in one map attribute, apart from the table's key and TTL attributes.
      Item: {
        ...key(session.uploadId),
        ...toItem({
          session: { ...session },
          [stateTable.ttlAttribute]: Math.ceil(session.expiresAt / 1000) + KEEP_AFTER_EXPIRY_SECONDS,
        }),
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': stateTable.partitionKey },
    });
  }

  async get(uploadId: string): Promise<UploadSession | undefined> {
    const { Item } = await awsJsonCall<{ Item?: Record<string, AttributeValue> }>('dynamodb', 'GetItem', {
      TableName: this.table,
      Key: key(uploadId),
      ConsistentRead: true,
    });
    const session: Plain | undefined = Item?.session && fromAttribute(Item.session);
    return (session ?? undefined) as UploadSession | undefined;
  }

  async finish(uploadId: string, status: 'completed' | 'aborted'): Promise<boolean> {
    try {
      await awsJsonCall('dynamodb', 'UpdateItem', {
        TableName: this.table,
        Key: key(uploadId),
        UpdateExpression: 'SET #session.#status = :status',
        ConditionExpression: '#session.#status = :uploading',
        ExpressionAttributeNames: { '#session': 'session', '#status': 'status' },
        ExpressionAttributeValues: toItem({ ':status': status, ':uploading': 'uploading' }),
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
