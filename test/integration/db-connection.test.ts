/**
 * A pooled Postgres connection closed by the server while idle (RDS Proxy recycling it, a failover, an
 * operator's pg_terminate_backend) must not take the process down: pg reports it as an 'error' event on
 * the pool, which, unheard, is an uncaught exception. Runs against a real PostgreSQL server (CI's second
 * pass sets DATABASE_URL); PGlite has no server to close anything.
 */
import { describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb } from '#adapters/db/connect.ts';
import { freshDatabase } from '#test/helpers/runtime.ts';

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
});
