import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { VideoStatus, Visibility } from '#core/video.ts';

/** Kysely's view of the Postgres schema that the migrations in ./migrations create. */
export interface Database {
  users: UsersTable;
  videos: VideosTable;
  renditions: RenditionsTable;
  transcode_jobs: TranscodeJobsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  captions: CaptionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  /** The identity provider's `sub`. */
  id: string;
  username: string;
  created_at: Generated<Date>;
  last_seen_at: Timestamp;
  /** Roles of the user's latest token (migration 0004); null until the user is seen again. */
  roles: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface VideosTable {
  id: string;
  owner_id: string;
  title: string;
  description: Generated<string>;
  visibility: Visibility;
  status: VideoStatus;
  failure_reason: string | null;
  source_key: string | null;
  source_filename: string | null;
  source_content_type: string | null;
  source_size: ColumnType<number | null, number | null | undefined, number | null>;
  duration_seconds: number | null;
  width: number | null;
  height: number | null;
  poster_key: string | null;
  thumbnail_key: string | null;
  master_playlist_key: string | null;
  probe: ColumnType<unknown, string | null | undefined, string | null>;
  ingested_revision: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  deleted_at: Date | null;
  /** Set by the cleanup worker once a deleted video's objects are gone. */
  media_removed_at: Date | null;
  /** Epoch seconds; tokens made before the video's latest revocation carry a smaller one (migration 0005). */
  playback_epoch: ColumnType<number, number | undefined, number>;
  /** The upload session that made the video (migration 0006); null for older videos. */
  upload_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the upload session expires (migration 0008): the expiry sweep's index. */
  upload_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** MP4 downloads the owner wants (migration 0015). */
  downloads: ColumnType<
    'none' | 'highest' | 'all',
    'none' | 'highest' | 'all' | undefined,
    'none' | 'highest' | 'all'
  >;
  /** The poster frame the owner chose; null: the automatic one (migration 0015). */
  poster_time_seconds: ColumnType<number | null, number | null | undefined, number | null>;
  /** What the derivatives worker made (core/derivatives.ts `DerivativesState`; migration 0015). */
  derivatives: ColumnType<unknown, string | null | undefined, string | null>;
  /** Generated column (title weight A, description weight B); never written. */
  search: ColumnType<string, never, never>;
  /** Jobs of a chunked transcode and how many have finished (migration 0014): the video's progress. */
  transcode_jobs_total: ColumnType<number | null, number | null | undefined, number | null>;
  transcode_jobs_done: ColumnType<number, number | undefined, number>;
}

export interface TranscodeJobsTable {
  video_id: string;
  job: number;
  kind: 'video' | 'audio';
  state: ColumnType<'queued' | 'done', 'queued' | 'done' | undefined, 'queued' | 'done'>;
  attempts: ColumnType<number, number | undefined, number>;
  landed_last: ColumnType<boolean, boolean | undefined, boolean>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface RenditionsTable {
  video_id: string;
  name: string;
  width: number;
  height: number;
  bitrate: number;
  codecs: string;
  playlist_key: string;
  created_at: Generated<Date>;
}

export type UserRow = Selectable<UsersTable>;
export type VideoRow = Selectable<VideosTable>;
export type NewVideoRow = Insertable<VideosTable>;
export type VideoUpdate = Updateable<VideosTable>;
export type RenditionRow = Selectable<RenditionsTable>;

export interface ApiKeysTable {
  id: string;
  owner_id: string;
  name: string;
  /** Visible, unique part of the key: how a presented key is looked up. */
  prefix: string;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  secret_hash: string;
  scopes: string[];
  roles: string[];
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  occurred_at: Generated<Date>;
  actor_id: string | null;
  actor_via: 'token' | 'api-key' | 'anonymous';
  api_key_id: string | null;
  action: string;
  outcome: 'success' | 'denied';
  status: number;
  target_type: string | null;
  target_id: string | null;
  request_id: string;
  source_ip: string;
  detail: string | null;
}

/** Messages a state change owes another system, written in the change's transaction (migration 0005). */
export interface OutboxTable {
  id: Generated<number>;
  topic: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  published_at: Date | null;
}

/** Caption tracks (migration 0009). */
export interface CaptionsTable {
  id: string;
  video_id: string;
  language: string;
  label: string;
  format: 'vtt' | 'srt';
  size: number;
  status: 'uploading' | 'processing' | 'ready' | 'failed';
  failure_reason: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** Webhook endpoints (migration 0008). */
export interface WebhookEndpointsTable {
  id: string;
  owner_id: string;
  all_videos: boolean;
  url: string;
  description: string;
  /** Event types it takes; null: every type. */
  events: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** One event for one endpoint (migration 0008). */
export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The exact body every attempt sends. */
  payload: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  last_response: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  dispatched_until: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
