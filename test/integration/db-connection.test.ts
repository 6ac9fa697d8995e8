/**
 * A pooled Postgres connection closed by the server while idle (RDS Proxy recycling it, a failover, an
 * operator's pg_terminate_backend) must not take the process down: pg reports it as an 'error' event on
 * the pool, which, unheard, is an uncaught exception. Runs against a real PostgreSQL server (CI's second
 * pass sets DATABASE_URL); PGlite has no server to close anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb } from '#adapters/db/connect.ts';
import { startLocalRuntime } from '#local/runtime.ts';
import { freshDatabase, RUNTIME_START_MS } from '#test/helpers/runtime.ts';

const onServer = process.env.DATABASE_URL ? it : it.skip;

describe('database connections', () => {
  onServer(
    'survive the server closing an idle pooled connection, and the next query reconnects',
    async () => {
      const database = (await freshDatabase())!;
      const db = await createDb({ kind: 'url', url: database.url });
      try {
        const before = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
        const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await admin.connect();
        await admin.query('select pg_terminate_backend($1)', [before.rows[0]!.pid]);
        await admin.end();
        // The pool notices the closed socket and drops it; the next query gets a new connection.
        let after: number | undefined;
        for (let attempt = 0; attempt < 20 && after === undefined; attempt++) {
          try {
            after = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        expect(after).toBeDefined();
        expect(after).not.toBe(before.rows[0]!.pid);
      } finally {
        await db.destroy();
        await database.drop();
      }
    },
  );

  onServer(
    'a DATABASE_URL naming a database that does not exist stops the start with what to do',
    async () => {
      const missing = new URL(process.env.DATABASE_URL!);
      const name = `videocloud_missing_${process.pid}`;
      missing.pathname = `/${name}`;
      const dataDir = mkdtempSync(join(tmpdir(), 'videocloud-missing-db-'));
      try {
        await expect(
          startLocalRuntime({
            PORT: 0,
            HOST: '127.0.0.1',
            VIDEOCLOUD_DATA_DIR: dataDir,
            DATABASE_URL: missing.toString(),
            WEB_ORIGINS: [],
            EMBED_ORIGINS: ['*'],
            LOG_LEVEL: 'ERROR',
          }),
        ).rejects.toThrow(
          `database "${name}" does not exist on ${missing.host}: create it (createdb ${name}) or point DATABASE_URL at one that does`,
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    RUNTIME_START_MS,
  );
});
