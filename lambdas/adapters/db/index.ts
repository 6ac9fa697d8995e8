import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type Config, config, type DatabaseSource } from '#shared/config.ts';
import { ConfigError } from '#shared/env.ts';
import { sharedDb } from './connect.ts';
import type { Database } from './schema.ts';

/** The process-wide database, connected from config on first use. */
export function db(): Promise<Kysely<Database>> {
  return sharedDb(() => databaseSource(config()));
}

/** The configured database; a function that opens it without one configured fails, naming the variables. */
export function databaseSource(from: Config): DatabaseSource {
  if (!from.database)
    throw new ConfigError(
      'VideoCloud configuration is invalid:\n  - DATABASE_URL is required but not set: this code opens the database, so set one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR',
    );
  return from.database;
}

export async function pingDatabase(): Promise<void> {
  await sql`select 1`.execute(await db());
}
