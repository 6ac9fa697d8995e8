import { config } from '#shared/config.ts';
import { databaseSource, dbOf, sharedConnection } from './connection.ts';
import type { Db } from './sql.ts';

/** The process-wide database, connected from config on first use. */
export async function db(): Promise<Db> {
  return dbOf(await sharedConnection(() => databaseSource(config())));
}
