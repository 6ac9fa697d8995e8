import { QuotaExceededError } from './errors.ts';
import type { Principal } from './principal.ts';

/**
 * Per-user storage quotas. What a user stores is counted from what the catalog knows, never from a
 * bucket listing: the declared size of each open upload (an `uploading` video whose session has not
 * expired) plus the source of every video that is not deleted (processing, ready or failed; a failed
 * video counts until it is deleted). Admins have their own limit (unlimited by default).
 */
export interface QuotaLimits {
  /** Bytes per user; null for unlimited. */
  quotaBytes: number | null;
  adminQuotaBytes: number | null;
  /** How long an upload stays open: older `uploading` videos no longer count. */
  sessionSeconds: number;
}

export interface StorageUsage {
  /** Bytes `ownerId` stores as counted above; uploads opened more than `openUploadSeconds` ago are closed. */
  storageUsed(ownerId: string, openUploadSeconds: number): Promise<number>;
}

export function storageLimit(principal: Principal, limits: QuotaLimits): number | null {
  return principal.roles.includes('admin') ? limits.adminQuotaBytes : limits.quotaBytes;
}

export async function describeQuota(
  usage: StorageUsage,
  principal: Principal,
  limits: QuotaLimits,
): Promise<{ bytesUsed: number; bytesLimit: number | null }> {
  return {
    bytesUsed: await usage.storageUsed(principal.userId, limits.sessionSeconds),
    bytesLimit: storageLimit(principal, limits),
  };
}

/** The refusal, naming the quota, the usage and the limit, in bytes and in words. */
export function quotaExceeded(requested: number, used: number, limit: number): QuotaExceededError {
  return new QuotaExceededError(
    `Storage quota exceeded: you store ${bytes(used)} of your ${bytes(limit)} quota, and this upload ` +
      `declares ${bytes(requested)} (${bytes(Math.max(0, limit - used))} left). Delete videos you no ` +
      'longer need, or ask an admin for a larger quota.',
  );
}

function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit < 0 ? `${n} bytes` : `${n} bytes (${value.toFixed(1)} ${units[unit]})`;
}
