import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { config, type DatabaseSource } from '#shared/config.ts';
import {
  type Connection,
  closeSharedConnection,
  type DbOptions,
  databaseSource,
  openConnection,
  sharedConnection,
} from './connection.ts';
import type { Database } from './schema.ts';

/**
 * Kysely over a connection. Destroying the handle closes the connection once it has run a query (Kysely
 * does nothing for a handle it never initialized).
 */
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

/** One handle per connection, so the shared handle can never outlive the shared connection. */
const handles = new WeakMap<Connection, Kysely<Database>>();

/** The process-wide database handle, over the process-wide connection (connection.ts). */
export async function sharedDb(source: () => DatabaseSource): Promise<Kysely<Database>> {
  const connection = await sharedConnection(source);
  let handle = handles.get(connection);
  if (!handle) handles.set(connection, (handle = kysely(connection)));
  return handle;
}

/** Closes the process-wide connection under the handle (the local runtime on shutdown; Lambda never does). */
export const closeSharedDb = closeSharedConnection;

/**
 * Kysely over the process-wide connection, for what still builds its SQL with Kysely: the migrations
 * (the local runtime applies them at start) and the tests' own checks of the tables.
 */
export function sharedKysely(): Promise<Kysely<Database>> {
  return sharedDb(() => databaseSource(config()));
}
