import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import { config, type DatabaseSource } from '#shared/config.ts';
import {
  type Connection,
  type DbOptions,
  databaseSource,
  openConnection,
  sharedConnection,
} from './connection.ts';
import type { Database } from './schema.ts';

/**
 * Kysely over a connection, for what still builds its SQL with Kysely: the migrations and the tests' own
 * checks of the tables (the repositories run plain SQL, sql.ts). Destroying the handle closes the
 * connection once it has run a query (Kysely does nothing for a handle it never initialized).
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

/**
 * Kysely over the process-wide connection (connection.ts), connected from config on first use: the local
 * runtime applies the migrations with it at start. Closing that connection closes it too.
 */
export async function sharedKysely(): Promise<Kysely<Database>> {
  const connection = await sharedConnection(() => databaseSource(config()));
  let handle = handles.get(connection);
  if (!handle) handles.set(connection, (handle = kysely(connection)));
  return handle;
}
