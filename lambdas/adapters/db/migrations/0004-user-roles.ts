import { type Kysely, sql } from 'kysely';

/**
 * The roles each user's latest token carried, so an API key never acts with more than its owner has
 * today (a demoted creator's keys lose creator at once). Null for users not seen since: keys fall back
 * to the roles recorded when they were made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column if not exists roles text[]`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column if exists roles`.execute(db);
}
