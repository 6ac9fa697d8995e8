import type { Kysely } from 'kysely';
import { config } from '#shared/config.ts';
import { sharedDb } from './connect.ts';
import { databaseSource } from './connection.ts';
import type { Database } from './schema.ts';

/** The process-wide database, connected from config on first use. */
export function db(): Promise<Kysely<Database>> {
  return sharedDb(() => databaseSource(config()));
}
