/**
 * Token buckets, one per (budget, caller). A caller is the user who owns the credential (a token and
 * every API key of one user share one bucket, so keys, revoked ones included, never multiply a
 * budget), or the client IP when anonymous or when authentication failed. A bucket holds `capacity`
 * tokens at most, `refillPerSecond` come back each second, and each request takes one.
 *
 * The bucket is stored the GCRA way (the generic cell rate algorithm, an exact equivalent of a token
 * bucket): as one number, the "theoretical arrival time" `tat` at which the bucket would be full again.
 * A request at `now` is allowed when `max(tat, now) + interval - now <= capacity * interval`, and then
 * `tat` becomes `max(tat, now) + interval`. Because that is a single compare-and-add on one attribute, a
 * store can apply it atomically with one conditional update and no prior read (adapters/rate-limit.ts).
 */
export type Budget = 'read' | 'write' | 'upload';

export interface BucketPolicy {
  capacity: number;
  refillPerSecond: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until a token is available (0 when allowed). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  take(budget: Budget, caller: string, policy: BucketPolicy, nowMs?: number): Promise<RateDecision>;
  /** Gives back one token taken by `take` (never more than the bucket holds). */
  refund(budget: Budget, caller: string, policy: BucketPolicy, nowMs?: number): Promise<RateDecision>;
}

/**
 * Budgets spent only by what they are there to limit: a token is taken before the request is looked at
 * (so concurrent requests can never together get past the bucket) and given back when the call ends in
 * anything but success, so refused creations (400, 403, 413, 415, 409...) cost nothing. Failed
 * authentication is charged to the client IP and never refunded.
 */
export const SPENT_ON_SUCCESS: ReadonlySet<Budget> = new Set<Budget>(['upload']);

/** Milliseconds one token takes to come back. */
export const intervalMs = (policy: BucketPolicy) => 1000 / policy.refillPerSecond;

/** The decision for a bucket whose theoretical arrival time is now `tat` (after the take, if allowed). */
export function decisionAt(policy: BucketPolicy, tat: number, nowMs: number, allowed: boolean): RateDecision {
  const interval = intervalMs(policy);
  const backlog = Math.max(0, tat - nowMs); // how far from full, in ms
  const tokens = policy.capacity - backlog / interval;
  return {
    allowed,
    limit: policy.capacity,
    remaining: Math.max(0, Math.floor(tokens + 1e-9)),
    resetSeconds: Math.ceil(backlog / 1000),
    retryAfterSeconds: allowed
      ? 0
      : Math.max(1, Math.ceil((backlog + interval - policy.capacity * interval) / 1000)),
  };
}

/** Pure GCRA step, for stores that hold state in memory (and for tests). */
export function gcra(
  tat: number | undefined,
  policy: BucketPolicy,
  nowMs: number,
): { tat: number; decision: RateDecision } {
  const interval = intervalMs(policy);
  const next = Math.max(tat ?? nowMs, nowMs) + interval;
  if (next - nowMs > policy.capacity * interval + 1e-6) {
    const current = tat ?? nowMs;
    return { tat: current, decision: decisionAt(policy, current, nowMs, false) };
  }
  return { tat: next, decision: decisionAt(policy, next, nowMs, true) };
}

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(Math.max(0, decision.resetSeconds)),
  };
}

/** Pure GCRA refund: one interval back, and a bucket never fuller than full (`tat` no earlier than now). */
export function gcraRefund(
  tat: number | undefined,
  policy: BucketPolicy,
  nowMs: number,
): { tat: number; decision: RateDecision } {
  const back = Math.max(nowMs, (tat ?? nowMs) - intervalMs(policy));
  return { tat: back, decision: decisionAt(policy, back, nowMs, true) };
}
