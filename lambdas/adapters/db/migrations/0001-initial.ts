import { type Kysely, sql } from 'kysely';

/**
 * Users, videos and renditions, with the indexes the three listings need:
 * - public listing (newest first, keyset): a partial index over ready public videos;
 * - owner listing (every status, newest first, keyset): (owner_id, created_at desc, id desc);
 * - full-text search over title and description: a GIN index on a generated tsvector.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('videos')
    .ifNotExists()
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('title', 'text', (c) => c.notNull().check(sql`char_length(title) between 1 and 200`))
    .addColumn('description', 'text', (c) =>
      c.notNull().defaultTo('').check(sql`char_length(description) <= 5000`),
    )
    .addColumn('visibility', 'text', (c) =>
      c.notNull().check(sql`visibility in ('public', 'unlisted', 'private')`),
    )
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('uploading', 'processing', 'ready', 'failed')`),
    )
    .addColumn('failure_reason', 'text')
    .addColumn('source_key', 'text')
    .addColumn('source_filename', 'text')
    .addColumn('source_content_type', 'text')
    .addColumn('source_size', 'bigint')
    .addColumn('duration_seconds', 'double precision')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('poster_key', 'text')
    .addColumn('thumbnail_key', 'text')
    .addColumn('master_playlist_key', 'text')
    .addColumn('probe', 'jsonb')
    // Which write of the source the pipeline took up; set once, so a video is transcoded once.
    .addColumn('ingested_revision', 'text')
    // Millisecond precision, so a keyset cursor carried in a JS Date compares exactly.
    .addColumn('created_at', 'timestamptz', (c) =>
      c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`),
    )
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('media_removed_at', 'timestamptz')
    .addColumn('search', sql`tsvector`, (c) =>
      c
        .generatedAlwaysAs(
          sql`setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B')`,
        )
        .stored(),
    )
    .execute();

  await sql`create index if not exists videos_public_listing
    on videos (created_at desc, id desc)
    where visibility = 'public' and status = 'ready' and deleted_at is null`.execute(db);
  await sql`create index if not exists videos_owner_listing
    on videos (owner_id, created_at desc, id desc)
    where deleted_at is null`.execute(db);
  await sql`create index if not exists videos_search on videos using gin (search)
    where deleted_at is null`.execute(db);

  await db.schema
    .createTable('renditions')
    .ifNotExists()
    .addColumn('video_id', 'uuid', (c) => c.notNull().references('videos.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bitrate', 'integer', (c) => c.notNull())
    .addColumn('codecs', 'text', (c) => c.notNull())
    .addColumn('playlist_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('renditions_pkey', ['video_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('renditions').ifExists().execute();
  await db.schema.dropTable('videos').ifExists().execute();
  await db.schema.dropTable('users').ifExists().execute();
}
