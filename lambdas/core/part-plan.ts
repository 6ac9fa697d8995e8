/**
 * How an upload is cut into multipart parts. S3's rules: at most 10,000 parts, every part but the last
 * at least 5 MiB, none above 5 GiB. Browsers do best with parts of roughly 8-64 MiB: big enough that
 * per-request overhead is small, small enough that a retry after a dropped connection is cheap. We aim
 * for at most ~1,000 parts within that band, and grow parts beyond 64 MiB only when the 10,000-part
 * ceiling forces it.
 */
export const MiB = 1024 * 1024;
export const S3_MIN_PART = 5 * MiB;
export const S3_MAX_PART = 5 * 1024 * MiB;
export const S3_MAX_PARTS = 10_000;
const PREFERRED_MIN_PART = 8 * MiB;
const PREFERRED_MAX_PART = 64 * MiB;
const TARGET_PARTS = 1_000;

export interface PartPlan {
  partSize: number;
  partCount: number;
}

export function planParts(size: number): PartPlan {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError(`size must be a positive integer, got ${size}`);
  const preferred = Math.min(
    PREFERRED_MAX_PART,
    Math.max(PREFERRED_MIN_PART, roundUpToMiB(size / TARGET_PARTS)),
  );
  const required = roundUpToMiB(size / S3_MAX_PARTS);
  const partSize = Math.max(preferred, required);
  if (partSize > S3_MAX_PART) throw new RangeError(`size ${size} is beyond what S3 multipart can hold`);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** The exact byte length of one part: every part is `partSize` except the last, which holds the rest. */
export function partLength(plan: PartPlan, size: number, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}

function roundUpToMiB(bytes: number): number {
  return Math.ceil(bytes / MiB) * MiB;
}
