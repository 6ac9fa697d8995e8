import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type Config, config, type DatabaseSource } from '#shared/config.ts';
import { ConfigError } from '#shared/env.ts';
import { logger } from '#shared/logger.ts';
import { rdsAuthToken } from '../sigv4.ts';
import { type Db, dbOver, type Execute, sql } from './sql.ts';

/**
 * The connection to Postgres, without a query builder: a pg pool (Lambda: RDS Proxy with IAM auth; local:
 * DATABASE_URL) or the local runtime's PGlite. The repositories run their SQL (sql.ts) on it through
 * `dbOf`; the migrations put Kysely over it (connect.ts).
 */
export type Connection = { kind: 'pool'; pool: pg.Pool } | { kind: 'pglite'; pglite: PGlite };

// int8 (byte sizes) as JS numbers: every size we store is far below 2^53.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (value) => Number(value));

export interface DbOptions {
  /** Connections per process. A Lambda container serves one request at a time: 2 is plenty. */
  poolSize?: number;
}

/** An IAM auth token lives 15 minutes; we mint a new one well before that. */
const IAM_TOKEN_TTL_MS = 10 * 60 * 1000;

export async function openConnection(source: DatabaseSource, options: DbOptions = {}): Promise<Connection> {
  const poolSize = options.poolSize ?? 2;
  switch (source.kind) {
    case 'url':
      return {
        kind: 'pool',
        pool: survivable(
          new pg.Pool({ connectionString: source.url, max: poolSize, idleTimeoutMillis: 30_000 }),
        ),
      };
    case 'rds-proxy': {
      const password = await iamTokenSource(source);
      return {
        kind: 'pool',
        pool: survivable(
          new pg.Pool({
            host: source.host,
            port: source.port,
            database: source.database,
            user: source.user,
            password,
            // RDS Proxy requires TLS; its certificate chains to Amazon's public roots, which Node trusts.
            ssl: { rejectUnauthorized: true },
            max: poolSize,
            idleTimeoutMillis: 60_000,
            connectionTimeoutMillis: 5_000,
          }),
        ),
      };
    }
    case 'pglite': {
      // Loaded only here, so Lambda bundles never carry the WASM build.
      const { PGlite } = await import('@electric-sql/pglite');
      const pglite = await PGlite.create(source.dataDir, {
        parsers: { [INT8_OID]: (v: string) => Number(v) },
      });
      return { kind: 'pglite', pglite };
    }
  }
}

/**
 * An idle pooled connection can be closed by the server at any time (RDS Proxy recycling it, a failover,
 * an administrator): pg reports that as an 'error' event on the pool, which would crash the process if
 * nobody listened. The pool has already dropped the connection; the next query opens a new one.
 */
function survivable(pool: pg.Pool): pg.Pool {
  pool.on('error', (error) => logger.warn('an idle database connection was closed by the server', { error }));
  return pool;
}

/**
 * pg calls this for every new connection; the token is a local SigV4 presign (sigv4.ts, the same token
 * @aws-sdk/rds-signer makes), no network.
 */
async function iamTokenSource(source: Extract<DatabaseSource, { kind: 'rds-proxy' }>) {
  let token: { value: string; mintedAt: number } | undefined;
  return async () => {
    if (!token || Date.now() - token.mintedAt > IAM_TOKEN_TTL_MS) {
      token = { value: await rdsAuthToken(source), mintedAt: Date.now() };
    }
    return token.value;
  };
}

/** Closes a connection (ends the pool, or closes PGlite). */
export async function closeConnection(connection: Connection): Promise<void> {
  if (connection.kind === 'pool') await connection.pool.end();
  else if (!connection.pglite.closed) await connection.pglite.close();
}

/** Postgres' SQLSTATE for "database does not exist" (invalid_catalog_name). */
const DATABASE_MISSING = '3D000';

/**
 * A connection error a person can act on, for whoever set `url` (the local runtime's DATABASE_URL): a
 * database that does not exist names its server and the two ways out. Any other error comes back as it is.
 * The server is named by host and port only, never with the URL's credentials.
 */
export function explainDatabaseError(error: unknown, url: string): unknown {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== DATABASE_MISSING) return error;
  const parsed = new URL(url);
  const name =
    decodeURIComponent(parsed.pathname.slice(1)) || /database "(.+)" does not exist/.exec(error.message)?.[1];
  const host = parsed.host || parsed.searchParams.get('host') || 'localhost';
  return new Error(
    `database "${name}" does not exist on ${host}: create it (createdb ${name}) or point DATABASE_URL at one that does`,
    { cause: error },
  );
}

let shared: Promise<Connection> | undefined;

/** The process-wide connection, opened once per Lambda container or local process. */
export function sharedConnection(source: () => DatabaseSource): Promise<Connection> {
  shared ??= openConnection(source()).catch((error) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Closes the process-wide connection (the local runtime on shutdown; Lambda containers never do). */
export async function closeSharedConnection(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await closeConnection(await current);
}

/** The configured database; a function that opens it without one configured fails, naming the variables. */
export function databaseSource(from: Config): DatabaseSource {
  if (!from.database)
    throw new ConfigError(
      'VideoCloud configuration is invalid:\n  - DATABASE_URL is required but not set: this code opens the database, so set one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR',
    );
  return from.database;
}

/** One round trip to the configured database (the health check). */
export async function pingDatabase(): Promise<void> {
  await dbOf(await sharedConnection(() => databaseSource(config()))).run(sql`select 1`);
}

const pgExecute =
  (client: pg.Pool | pg.PoolClient): Execute =>
  async (text, values) => {
    const result = await client.query(text, values);
    return { rows: result.rows, count: result.rowCount ?? 0 };
  };

const pgliteExecute =
  (pglite: Pick<PGlite, 'query'>): Execute =>
  async (text, values) => {
    const result = await pglite.query(text, values);
    return { rows: result.rows, count: result.affectedRows ?? 0 };
  };

/**
 * A pg transaction holds one pooled client from begin to commit. A client whose rollback failed is in an
 * unknown state: it is destroyed, not returned to the pool.
 */
async function pgTransaction<T>(pool: pg.Pool, work: (execute: Execute) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(pgExecute(client));
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

const handles = new WeakMap<Connection, Db>();

/** The repositories' handle on a connection (one per connection). */
export function dbOf(connection: Connection): Db {
  let handle = handles.get(connection);
  if (!handle) {
    handle =
      connection.kind === 'pool'
        ? dbOver(pgExecute(connection.pool), (work) => pgTransaction(connection.pool, work))
        : dbOver(pgliteExecute(connection.pglite), (work) =>
            // PGlite's transaction holds the instance: other statements wait for it to end.
            connection.pglite.transaction((tx) => work(pgliteExecute(tx))),
          );
    handles.set(connection, handle);
  }
  return handle;
}
