import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { gcra, gcraRefund } from '#core/rate-limit.ts';

describe('token bucket (GCRA form)', () => {
  const policy = { capacity: 5, refillPerSecond: 1 };

  it('grants a full burst, then one token per refill interval', () => {
    let tat: number | undefined;
    const allowed: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      const step = gcra(tat, policy, 0);
      tat = step.tat;
      allowed.push(step.decision.allowed);
    }
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
    const refused = gcra(tat, policy, 0).decision;
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterSeconds).toBe(1);
    expect(gcra(tat, policy, 1000).decision.allowed).toBe(true);
  });

  it('reports what is left and when the bucket is full again', () => {
    const first = gcra(undefined, policy, 0).decision;
    expect(first).toMatchObject({ allowed: true, limit: 5, remaining: 4, resetSeconds: 1 });
  });

  it('a refund gives back exactly one token, and never fills a bucket past full', () => {
    let tat: number | undefined;
    for (let i = 0; i < 5; i++) tat = gcra(tat, policy, 0).tat;
    expect(gcra(tat, policy, 0).decision.allowed).toBe(false);
    tat = gcraRefund(tat, policy, 0).tat;
    expect(gcra(tat, policy, 0).decision.allowed).toBe(true);
    expect(gcra(gcra(tat, policy, 0).tat, policy, 0).decision.allowed).toBe(false);
    // Refunding a full bucket leaves it full: capacity, not more.
    const full = gcraRefund(gcraRefund(undefined, policy, 10_000).tat, policy, 10_000);
    expect(full.decision.remaining).toBe(policy.capacity);
  });

  it('never grants more than capacity + elapsed * rate over any schedule', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 60 }), (gaps) => {
        let now = 0;
        let tat: number | undefined;
        let granted = 0;
        for (const gap of gaps) {
          now += gap;
          const step = gcra(tat, policy, now);
          tat = step.tat;
          if (step.decision.allowed) granted++;
        }
        expect(granted).toBeLessThanOrEqual(
          policy.capacity + Math.floor((now / 1000) * policy.refillPerSecond),
        );
      }),
    );
  });
});
