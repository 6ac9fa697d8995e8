import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type BucketPolicy,
  type Budget,
  decisionAt,
  intervalMs,
  type RateDecision,
  type RateLimiter,
} from '#core/rate-limit.ts';
import { config } from '#shared/config.ts';
import { stateTable } from '#shared/resources.ts';
import { dynamoDocumentClient } from './aws.ts';

/**
 * Token buckets in the state table under `ratelimit#{budget}#{caller}`, stored as one GCRA timestamp
 * `tat` (see core/rate-limit.ts). Each take is a single conditional UpdateItem, atomic in DynamoDB
 * (and dynalite locally), with no read first, so concurrent requests can never together take more
 * tokens than the bucket holds and never lose a race:
 *   1. busy bucket (`now < tat <= now + (capacity-1)*interval`): `tat += interval`;
 *   2. else idle bucket (no item, or `tat <= now`): `tat = now + interval`;
 *   3. else the bucket is empty: refused (one read for Retry-After).
 * The two conditions are disjoint, so either may be tried first. The container remembers the `tat` it
 * last saw per bucket and tries the update that matches it first: a caller's run of requests (busy) and
 * a caller back after a pause (idle) both take one DynamoDB call; only a guess made stale by another
 * container costs a second.
 */
const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error).name === 'ConditionalCheckFailedException';

export class DynamoRateLimiter implements RateLimiter {
  private readonly table = config().stateTable;
  /** The last `tat` this container saw per bucket: which update to try first (a guess, never trusted). */
  private readonly lastTat = new Map<string, number>();

  private remember(bucket: string, tat: number): void {
    if (this.lastTat.size >= 10_000) this.lastTat.clear(); // bound a long-lived container's memory
    this.lastTat.set(bucket, tat);
  }

  async take(
    budget: Budget,
    caller: string,
    policy: BucketPolicy,
    nowMs = Date.now(),
  ): Promise<RateDecision> {
    const Key = bucketKey(budget, caller);
    const interval = intervalMs(policy);
    // The item can go (TTL) a day after the bucket would be full again.
    const ttl = Math.ceil((nowMs + policy.capacity * interval) / 1000 + 86_400);
    const names = { '#tat': 'tat', '#ttl': stateTable.ttlAttribute };
    const attempt = async (
      update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
    ) => {
      try {
        const { Attributes } = await dynamoDocumentClient().send(
          new UpdateCommand({ TableName: this.table, Key, ReturnValues: 'UPDATED_NEW', ...update }),
        );
        return Number(Attributes?.tat);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    };
    const busy = () =>
      attempt({
        UpdateExpression: 'SET #tat = #tat + :interval, #ttl = :ttl',
        ConditionExpression: '#tat > :now AND #tat <= :latest',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':interval': interval,
          ':now': nowMs,
          ':latest': nowMs + (policy.capacity - 1) * interval,
          ':ttl': ttl,
        },
      });
    const idle = () =>
      attempt({
        UpdateExpression: 'SET #tat = :next, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':next': nowMs + interval, ':now': nowMs, ':ttl': ttl },
      });
    const hintKey = Key[stateTable.partitionKey] as string;
    const order = (this.lastTat.get(hintKey) ?? 0) > nowMs ? [busy, idle] : [idle, busy];
    for (let round = 0; round < 2; round++) {
      for (const update of order) {
        const tat = await update();
        if (tat !== undefined) {
          this.remember(hintKey, tat);
          return decisionAt(policy, tat, nowMs, true);
        }
      }
      // Neither: empty, unless another request moved the bucket between the two updates; read to know.
      const { Item } = await dynamoDocumentClient().send(
        new GetCommand({ TableName: this.table, Key, ConsistentRead: true }),
      );
      const tat = Number(Item?.tat ?? 0);
      this.remember(hintKey, tat);
      if (tat > nowMs + (policy.capacity - 1) * interval) return decisionAt(policy, tat, nowMs, false);
    }
    return decisionAt(policy, nowMs + policy.capacity * interval, nowMs, false);
  }

  /**
   * One conditional UpdateItem, `tat -= interval` while the bucket is not full (`tat` in the future; a
   * `tat` that ends up before now reads as a full bucket, as in `take`). Concurrent takes and refunds
   * commute, so a refund never lets more requests through than tokens were taken and kept.
   */
  async refund(
    budget: Budget,
    caller: string,
    policy: BucketPolicy,
    nowMs = Date.now(),
  ): Promise<RateDecision> {
    const interval = intervalMs(policy);
    try {
      const { Attributes } = await dynamoDocumentClient().send(
        new UpdateCommand({
          TableName: this.table,
          Key: bucketKey(budget, caller),
          UpdateExpression: 'SET #tat = #tat - :interval',
          ConditionExpression: '#tat > :now',
          ExpressionAttributeNames: { '#tat': 'tat' },
          ExpressionAttributeValues: { ':interval': interval, ':now': nowMs },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return decisionAt(policy, Math.max(nowMs, Number(Attributes?.tat)), nowMs, true);
    } catch (error) {
      if (isConditionFailure(error)) return decisionAt(policy, nowMs, nowMs, true);
      throw error;
    }
  }
}

const bucketKey = (budget: Budget, caller: string) => ({
  [stateTable.partitionKey]: `ratelimit#${budget}#${caller}`,
  [stateTable.sortKey]: 'bucket',
});

let limiter: RateLimiter | undefined;
export function rateLimiter(): RateLimiter {
  limiter ??= new DynamoRateLimiter();
  return limiter;
}
