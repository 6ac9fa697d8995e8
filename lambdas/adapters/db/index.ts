import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { config } from '#shared/config.ts';
import { sharedDb } from './connect.ts';
import type { Database } from './schema.ts';

/** The process-wide database, connected from config on first use. */
export function db(): Promise<Kysely<Database>> {
  return sharedDb(() => config().database);
}

export async function pingDatabase(): Promise<void> {
  await sql`select 1`.execute(await db());
}
