import { type Kysely, sql } from 'kysely';

/**
 * Webhooks and domain events.
 *
 * `webhook_endpoints`: where a creator (their own videos' events) or an admin (`all_videos`: every
 * video's events) wants events POSTed, the event types it takes (null: all), and its signing secret;
 * after a rotation the previous secret keeps signing beside the new one until `previous_secret_until`.
 * `failing_since` is the first failed attempt since the endpoint last answered 2xx (auto-disable).
 *
 * `webhook_deliveries`: one event for one endpoint, with the exact body every attempt sends (so each
 * retry is byte for byte the same, under the same `webhook-id`), where it stands, what the last attempt
 * got, and when the next is due. `dispatched_until` is a lease: an attempt for it is on its way to the
 * sender until then; a lease that runs out without a recorded result is dispatched again.
 *
 * `videos.upload_expires_at`: when the upload session that made a video (`upload_id`, migration 0006)
 * expires, so an expired upload can be found (and told about: `upload.expired`) without scanning sessions.
 *
 * The outbox's `event` rows are looked up by event id: the fan-out trusts only what the database says.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists webhook_endpoints (
    id uuid primary key,
    owner_id text not null references users (id),
    all_videos boolean not null default false,
    url text not null check (length(url) between 1 and 2048),
    description text not null default '' check (length(description) <= 500),
    events text[],
    enabled boolean not null default true,
    disabled_reason text,
    secret text not null,
    previous_secret text,
    previous_secret_until timestamptz,
    failing_since timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create index if not exists webhook_endpoints_by_owner
    on webhook_endpoints (owner_id, created_at desc, id desc)`.execute(db);

  await sql`create table if not exists webhook_deliveries (
    id uuid primary key,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    event_id uuid not null,
    event_type text not null,
    payload text not null,
    status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
    attempts integer not null default 0,
    last_status_code integer,
    last_error text,
    last_latency_ms integer,
    last_response text,
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    dispatched_until timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (endpoint_id, event_id)
  )`.execute(db);
  await sql`create index if not exists webhook_deliveries_by_endpoint
    on webhook_deliveries (endpoint_id, created_at desc, id desc)`.execute(db);
  await sql`create index if not exists webhook_deliveries_due
    on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);

  await sql`create index if not exists outbox_event_id
    on outbox ((payload ->> 'id')) where topic = 'event'`.execute(db);

  await sql`alter table videos add column if not exists upload_expires_at timestamptz`.execute(db);
  await sql`create index if not exists videos_uploading_expiry
    on videos (upload_expires_at) where status = 'uploading' and deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists videos_uploading_expiry`.execute(db);
  await sql`alter table videos drop column if exists upload_expires_at`.execute(db);
  await sql`drop index if exists outbox_event_id`.execute(db);
  await sql`drop table if exists webhook_deliveries`.execute(db);
  await sql`drop table if exists webhook_endpoints`.execute(db);
}
