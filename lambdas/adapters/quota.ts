import type { QuotaLimits, StorageUsage } from '#core/quota.ts';
import { config } from '#shared/config.ts';
import { db } from './db/index.ts';
import { PostgresVideoRepository } from './db/videos.ts';

/**
 * What `GET /v1/me` needs to show a caller's quota: the stored bytes (Postgres) and the limits. Apart
 * from uploads.ts, so /v1/me does not bundle the S3 and DynamoDB upload adapters it never calls.
 */
export async function quotaDeps(): Promise<{ usage: StorageUsage; limits: QuotaLimits }> {
  return { usage: new PostgresVideoRepository(await db()), limits: config().uploads };
}
