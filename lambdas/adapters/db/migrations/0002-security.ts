import { type Kysely, sql } from 'kysely';

/**
 * API keys and the audit log.
 * - api_keys: only a SHA-256 hash of each key is kept; `prefix` is the visible, unique lookup handle.
 *   `roles` is the owner's roles when the key was made (a key never acts with more than its owner had).
 * - audit_log: append-only; listed newest first by its identity column (keyset pagination).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .ifNotExists()
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) between 1 and 100`))
    .addColumn('prefix', 'text', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('roles', sql`text[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) =>
      c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`),
    )
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await sql`create index if not exists api_keys_owner on api_keys (owner_id, created_at desc)`.execute(db);

  await db.schema
    .createTable('audit_log')
    .ifNotExists()
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_id', 'text')
    .addColumn('actor_via', 'text', (c) =>
      c.notNull().check(sql`actor_via in ('token', 'api-key', 'anonymous')`),
    )
    .addColumn('api_key_id', 'uuid')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('success', 'denied')`))
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('source_ip', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await sql`create index if not exists audit_log_actor on audit_log (actor_id, id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_log').ifExists().execute();
  await db.schema.dropTable('api_keys').ifExists().execute();
}
