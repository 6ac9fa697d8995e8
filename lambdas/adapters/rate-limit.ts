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
import { awsJsonCall } from './aws-json.ts';
import { type AttributeValue, toAttribute, toItem } from './dynamo-item.ts';

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
 *
 * The calls go over aws-json.ts (one signed request each, no SDK client): every authenticated route
 * takes a token, and the DynamoDB client would be a third of its bundle.
 */
const isConditionFailure = (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException';

const num = (value: number): AttributeValue => toAttribute(value);
type UpdateOutput = { Attributes?: { tat?: { N?: string } } };
type GetOutput = { Item?: { tat?: { N?: string } } };

interface Update {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
}

const updateItem = (TableName: string, Key: Record<string, AttributeValue>, update: Update) =>
  awsJsonCall<UpdateOutput>('dynamodb', 'UpdateItem', {
    TableName,
    Key,
    ReturnValues: 'UPDATED_NEW',
    ...update,
  });

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
    const attempt = async (update: Update) => {
      try {
        const { Attributes } = await updateItem(this.table, Key, update);
        return Number(Attributes?.tat?.N);
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
          ':interval': num(interval),
          ':now': num(nowMs),
          ':latest': num(nowMs + (policy.capacity - 1) * interval),
          ':ttl': num(ttl),
        },
      });
    const idle = () =>
      attempt({
        UpdateExpression: 'SET #tat = :next, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':next': num(nowMs + interval), ':now': num(nowMs), ':ttl': num(ttl) },
      });
    const hintKey = bucketId(budget, caller);
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
      const { Item } = await awsJsonCall<GetOutput>('dynamodb', 'GetItem', {
        TableName: this.table,
        Key,
        ConsistentRead: true,
      });
      const tat = Number(Item?.tat?.N ?? 0);
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
      const { Attributes } = await updateItem(this.table, bucketKey(budget, caller), {
        UpdateExpression: 'SET #tat = #tat - :interval',
        ConditionExpression: '#tat > :now',
        ExpressionAttributeNames: { '#tat': 'tat' },
        ExpressionAttributeValues: { ':interval': num(interval), ':now': num(nowMs) },
      });
      return decisionAt(policy, Math.max(nowMs, Number(Attributes?.tat?.N)), nowMs, true);
    } catch (error) {
      if (isConditionFailure(error)) return decisionAt(policy, nowMs, nowMs, true);
      throw error;
    }
  }
}

const bucketId = (budget: Budget, caller: string) => `ratelimit#${budget}#${caller}`;
const bucketKey = (budget: Budget, caller: string) =>
  toItem({ [stateTable.partitionKey]: bucketId(budget, caller), [stateTable.sortKey]: 'bucket' });

let limiter: RateLimiter | undefined;
export function rateLimiter(): RateLimiter {
  limiter ??= new DynamoRateLimiter();
  return limiter;
}
