import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import type { DatabaseSource } from '#shared/config.ts';
import {
  type Connection,
  closeSharedConnection,
  type DbOptions,
  openConnection,
  sharedConnection,
} from './connection.ts';
import type { Database } from './schema.ts';

/** Kysely over a connection; destroying it closes the connection. */
function kysely(connection: Connection): Kysely<Database> {
  return new Kysely<Database>({
    dialect:
      connection.kind === 'pool'
        ? new PostgresDialect({ pool: connection.pool })
        : new PGliteDialect({ pglite: connection.pglite }),
  });
}

export async function createDb(source: DatabaseSource, options: DbOptions = {}): Promise<Kysely<Database>> {
  return kysely(await openConnection(source, options));
}

let shared: Promise<Kysely<Database>> | undefined;

/** The process-wide database handle, over the process-wide connection (connection.ts). */
export function sharedDb(source: () => DatabaseSource): Promise<Kysely<Database>> {
  shared ??= sharedConnection(source)
    .then(kysely)
    .catch((error) => {
      shared = undefined;
      throw error;
    });
  return shared;
}

/** Closes the process-wide handle and its connection (the local runtime on shutdown; Lambda never does). */
export async function closeSharedDb(): Promise<void> {
  shared = undefined;
  await closeSharedConnection();
}
