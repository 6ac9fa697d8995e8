import { type Kysely, sql } from 'kysely';

/**
 * Caption tracks of a video (API.md "Captions"). A track is `uploading` until its file lands in storage,
 * `processing` while the captions worker validates it, then `ready` (published in the master playlist)
 * or `failed` with a reason. Deleting a video removes its tracks with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists captions (
    id uuid primary key,
    video_id uuid not null references videos (id) on delete cascade,
    language text not null check (char_length(language) between 2 and 35),
    label text not null check (char_length(label) between 1 and 100),
    format text not null check (format in ('vtt', 'srt')),
    size integer not null check (size between 1 and 2097152),
    status text not null check (status in ('uploading', 'processing', 'ready', 'failed')),
    failure_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create index if not exists captions_by_video on captions (video_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists captions`.execute(db);
}
