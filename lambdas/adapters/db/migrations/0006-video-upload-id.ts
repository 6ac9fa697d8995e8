import { type Kysely, sql } from 'kysely';

/**
 * Which upload session made a video, so deleting a video whose upload is still open can abort that
 * multipart upload (no part lands afterwards, no source object appears). Null for videos made before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos add column if not exists upload_id text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos drop column if exists upload_id`.execute(db);
}
