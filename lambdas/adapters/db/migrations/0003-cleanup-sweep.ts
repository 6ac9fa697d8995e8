import { type Kysely, sql } from 'kysely';

/** Lets the hourly cleanup sweep find deleted videos whose media are still stored without a scan. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists videos_media_to_remove on videos (deleted_at)
    where deleted_at is not null and media_removed_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists videos_media_to_remove`.execute(db);
}
