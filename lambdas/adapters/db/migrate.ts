import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import * as initial from './migrations/0001-initial.ts';
import * as security from './migrations/0002-security.ts';
import * as cleanupSweep from './migrations/0003-cleanup-sweep.ts';
import * as userRoles from './migrations/0004-user-roles.ts';
import * as playbackOutbox from './migrations/0005-playback-outbox.ts';
import * as videoUploadId from './migrations/0006-video-upload-id.ts';
import * as webhooks from './migrations/0008-webhooks.ts';
import * as captions from './migrations/0009-captions.ts';
import * as outboxRetention from './migrations/0012-outbox-retention.ts';
import * as searchIndex from './migrations/0013-search-index.ts';
import * as transcodeJobs from './migrations/0014-transcode-jobs.ts';
import * as derivatives from './migrations/0015-derivatives.ts';

/**
 * Migrations are listed here rather than read from a folder at run time, so the migration Lambda's
 * bundle carries them. Names sort in apply order; never rename or edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-security': security,
  '0003-cleanup-sweep': cleanupSweep,
  '0004-user-roles': userRoles,
  '0005-playback-outbox': playbackOutbox,
  '0006-video-upload-id': videoUploadId,
  '0008-webhooks': webhooks,
  '0009-captions': captions,
  '0012-outbox-retention': outboxRetention,
  '0013-search-index': searchIndex,
  '0014-transcode-jobs': transcodeJobs,
  '0015-derivatives': derivatives,
};

/** Applies every pending migration. Safe to run again and from several processes (Kysely takes a lock). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any typed handle
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Branches number their migrations when they start and land in any order (0009 shipped before
    // 0008): a database that already ran a later one still gets an earlier one that arrives after it.
    allowUnorderedMigrations: true,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    // No migration ran: the database could not be reached or locked (say, it does not exist). That error
    // as it is, with its Postgres code, for the caller to explain (explainDatabaseError in connection.ts).
    if (!failed) throw result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`Migration ${failed} failed: ${(result.error as Error).message ?? result.error}`, {
      cause: result.error,
    });
  }
  return result;
}
