import { type Kysely, sql } from 'kysely';

/**
 * Playback revocation and the transactional outbox.
 *
 * `videos.playback_epoch`: every playback token carries the epoch of its video when it was made, and the
 * CDN refuses tokens older than the video's revocation epoch. Making a video private or deleting it moves
 * the epoch forward, in the same transaction as the change.
 *
 * `outbox`: what a state change must tell another system (the CDN's KeyValueStore today), written in the
 * same transaction as the change; a relay publishes pending rows to their queue and marks them published,
 * so a crash between the change and the send loses nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos add column if not exists playback_epoch bigint not null default 0`.execute(db);
  await sql`create table if not exists outbox (
    id bigint generated always as identity primary key,
    topic text not null check (length(topic) between 1 and 100),
    payload jsonb not null,
    created_at timestamptz not null default now(),
    published_at timestamptz
  )`.execute(db);
  await sql`create index if not exists outbox_pending on outbox (id) where published_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists outbox`.execute(db);
  await sql`alter table videos drop column if exists playback_epoch`.execute(db);
}
