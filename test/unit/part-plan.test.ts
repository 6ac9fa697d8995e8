import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MiB, partLength, planParts, S3_MAX_PART, S3_MAX_PARTS, S3_MIN_PART } from '#core/part-plan.ts';

const GiB = 1024 * MiB;

describe('the multipart part plan', () => {
  it("keeps every plan within S3's rules and adds up to the declared size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 * 1024 * GiB }), (size) => {
        const plan = planParts(size);
        expect(plan.partCount).toBeGreaterThanOrEqual(1);
        expect(plan.partCount).toBeLessThanOrEqual(S3_MAX_PARTS);
        expect(plan.partSize).toBeLessThanOrEqual(S3_MAX_PART);
        let total = 0;
        for (const n of [1, plan.partCount]) {
          const length = partLength(plan, size, n);
          expect(length).toBeGreaterThan(0);
          if (n < plan.partCount) expect(length).toBeGreaterThanOrEqual(S3_MIN_PART);
        }
        total = plan.partSize * (plan.partCount - 1) + partLength(plan, size, plan.partCount);
        expect(total).toBe(size);
      }),
      { numRuns: 10_000 },
    );
  });

  it('uses browser-friendly parts of 8-64 MiB for anything up to 20 GiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8 * MiB, max: 20 * GiB }), (size) => {
        const { partSize } = planParts(size);
        expect(partSize).toBeGreaterThanOrEqual(8 * MiB);
        expect(partSize).toBeLessThanOrEqual(64 * MiB);
      }),
    );
  });

  it('plans the familiar cases', () => {
    expect(planParts(1)).toEqual({ partSize: 8 * MiB, partCount: 1 });
    expect(planParts(40 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 5 });
    expect(planParts(20 * GiB)).toEqual({ partSize: 21 * MiB, partCount: 976 });
    expect(planParts(1024 * GiB).partCount).toBeLessThanOrEqual(S3_MAX_PARTS);
  });

  it('refuses sizes that are not positive integers', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => planParts(size)).toThrow(RangeError);
  });
});
