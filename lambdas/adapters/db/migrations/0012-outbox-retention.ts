import { type Kysely, sql } from 'kysely';

/**
 * Published outbox rows are kept for a while (the webhook fan-out reads an event's row when its message
 * arrives, which a DLQ redrive may make weeks later), then removed by the relay in small batches. This
 * index finds the expired ones without reading the table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists outbox_published on outbox (published_at) where published_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists outbox_published`.execute(db);
}
