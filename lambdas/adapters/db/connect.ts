import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseSource } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { rdsAuthToken } from '../sigv4.ts';
import type { Database } from './schema.ts';

// int8 (byte sizes) as JS numbers: every size we store is far below 2^53.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (value) => Number(value));

export interface DbOptions {
  /** Connections per process. A Lambda container serves one request at a time: 2 is plenty. */
  poolSize?: number;
}

/** An IAM auth token lives 15 minutes; we mint a new one well before that. */
const IAM_TOKEN_TTL_MS = 10 * 60 * 1000;

export async function createDb(source: DatabaseSource, options: DbOptions = {}): Promise<Kysely<Database>> {
  const poolSize = options.poolSize ?? 2;
  switch (source.kind) {
    case 'url':
      return new Kysely<Database>({
        dialect: new PostgresDialect({
          pool: survivable(
            new pg.Pool({ connectionString: source.url, max: poolSize, idleTimeoutMillis: 30_000 }),
          ),
        }),
      });
    case 'rds-proxy': {
      const password = await iamTokenSource(source);
      return new Kysely<Database>({
        dialect: new PostgresDialect({
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
        }),
      });
    }
    case 'pglite': {
      // Loaded only here, so Lambda bundles never carry the WASM build.
      const { PGlite } = await import('@electric-sql/pglite');
      const pglite = await PGlite.create(source.dataDir, {
        parsers: { [INT8_OID]: (v: string) => Number(v) },
      });
      return new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
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

let shared: Promise<Kysely<Database>> | undefined;

/** The process-wide database handle, created once per Lambda container or local process. */
export function sharedDb(source: () => DatabaseSource): Promise<Kysely<Database>> {
  shared ??= createDb(source()).catch((error) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Closes the process-wide handle (the local runtime on shutdown; Lambda containers never do). */
export async function closeSharedDb(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current).destroy();
}
