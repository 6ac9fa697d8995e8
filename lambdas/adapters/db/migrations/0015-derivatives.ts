import { type Kysely, sql } from 'kysely';

/**
 * Derivatives of a ready video (API.md "Downloads", "Storyboard and poster"): what the owner asked for
 * (`downloads`, `poster_time_seconds`) and what the derivatives worker has made (`derivatives`, a JSON
 * document: the MP4 files with their sizes, the storyboard, the poster time the current poster shows and
 * the automatic poster's keys). The API lists only what was made *and* is still wanted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos
    add column if not exists downloads text not null default 'none' check (downloads in ('none', 'highest', 'all')),
    add column if not exists poster_time_seconds double precision check (poster_time_seconds >= 0),
    add column if not exists derivatives jsonb`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos
    drop column if exists derivatives,
    drop column if exists poster_time_seconds,
    drop column if exists downloads`.execute(db);
}
