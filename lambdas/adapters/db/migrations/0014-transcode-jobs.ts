import { type Kysely, sql } from 'kysely';

/**
 * Chunked parallel transcoding (core/media/chunks.ts): one row per job of a video's transcode (each video
 * chunk with all its rungs, and the audio-and-poster job), its state and attempts, and what it produced
 * (segment names, durations and sizes) for the stitch. The video row counts finished jobs: the update
 * that moves the count is serialized by the row lock, so exactly one job, however often messages are
 * duplicated or retried, sees the last one land and stitches. The count is also the video's progress.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists transcode_jobs (
    video_id uuid not null references videos (id) on delete cascade,
    job integer not null check (job >= 0),
    kind text not null check (kind in ('video', 'audio')),
    state text not null default 'queued' check (state in ('queued', 'done')),
    attempts integer not null default 0,
    -- The job whose landing completed the count: its message (retried, if the stitch failed) stitches.
    landed_last boolean not null default false,
    result jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (video_id, job)
  )`.execute(db);
  await sql`alter table videos
    add column if not exists transcode_jobs_total integer,
    add column if not exists transcode_jobs_done integer not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table videos drop column if exists transcode_jobs_total, drop column if exists transcode_jobs_done`.execute(
    db,
  );
  await sql`drop table if exists transcode_jobs`.execute(db);
}
