/**
 * The repositories' handle (sql.ts over connection.ts) on PGlite and on a real server; and connections:
 * a pooled Postgres connection closed by the server while idle (RDS Proxy recycling it, a failover, an
 * operator's pg_terminate_backend) must not take the process down: pg reports it as an 'error' event on
 * the pool, which, unheard, is an uncaught exception. Runs against a real PostgreSQL server (CI's second
 * pass sets DATABASE_URL); PGlite has no server to close anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { type Connection, closeConnection, dbOf, openConnection } from '#adapters/db/connection.ts';
import { type Db, sql } from '#adapters/db/sql.ts';
import { startLocalRuntime } from '#local/runtime.ts';
import { freshDatabase, RUNTIME_START_MS } from '#test/helpers/runtime.ts';

const onServer = process.env.DATABASE_URL ? it : it.skip;

/** The repositories' handle on each database this run has: PGlite always, the server when CI sets one. */
const databases: Array<[string, () => Promise<{ connection: Connection; drop(): Promise<void> }>]> = [
  [
    'PGlite',
    async () => {
      const connection = await openConnection({ kind: 'pglite', dataDir: 'memory://' });
      return { connection, drop: () => closeConnection(connection) };
    },
  ],
  ...(process.env.DATABASE_URL
    ? [
        [
          'PostgreSQL',
          async () => {
            const database = (await freshDatabase())!;
            const connection = await openConnection({ kind: 'url', url: database.url });
            return {
              connection,
              drop: async () => {
                await closeConnection(connection);
                await database.drop();
              },
            };
          },
        ] as (typeof databases)[number],
      ]
    : []),
];

describe.each(databases)("the repositories' handle on %s", (_name, open) => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const opened = await open();
    db = dbOf(opened.connection);
    drop = opened.drop;
    await db.run(sql`create table notes (id int primary key, body text not null)`);
  }, 60_000);
  afterAll(() => drop());

  it('binds values as data: a value that looks like SQL is stored as written', async () => {
    const body = "x'); drop table notes; --";
    expect(await db.run(sql`insert into notes (id, body) values (${1}, ${body})`)).toBe(1);
    expect(await db.first(sql`select body from notes where id = ${1}`)).toEqual({ body });
    expect(await db.all(sql`select id from notes where id = any(${[1, 2]}) order by id`)).toEqual([
      { id: 1 },
    ]);
    expect(await db.first(sql`select id from notes where id = ${99}`)).toBeUndefined();
  });

  it('commits a transaction that resolves and rolls back one that throws, leaving nothing of it', async () => {
    await db.transaction(async (tx) => {
      await tx.run(sql`insert into notes (id, body) values (${2}, ${'kept'})`);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`insert into notes (id, body) values (${3}, ${'lost'})`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // A statement failing inside the transaction rolls it all back too, and the handle works after it.
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`insert into notes (id, body) values (${4}, ${'lost too'})`);
        await tx.run(sql`insert into notes (id, body) values (${2}, ${'duplicate'})`);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await db.all(sql`select id, body from notes where id > ${1} order by id`)).toEqual([
      { id: 2, body: 'kept' },
    ]);
  });

  it('fails a transaction whose work caught a failed statement and went on: nothing of it is kept', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run(sql`insert into notes (id, body) values (${5}, ${'lost with the rest'})`);
        await tx.run(sql`insert into notes (id, body) values (${2}, ${'duplicate'})`).catch(() => undefined);
        return 'carried on';
      }),
    ).rejects.toThrow();
    expect(await db.first(sql`select id from notes where id = ${5}`)).toBeUndefined();
  });

  it('counts the rows a statement changed, and refuses a transaction inside a transaction', async () => {
    expect(await db.run(sql`update notes set body = body || ${'!'} where id <= ${2}`)).toBe(2);
    expect(await db.run(sql`delete from notes where id = ${42}`)).toBe(0);
    await expect(db.transaction((tx) => tx.transaction(async () => 'inner'))).rejects.toThrow(
      'already in a transaction',
    );
  });
});

describe('database connections', () => {
  onServer(
    'survive the server closing an idle pooled connection, and the next query reconnects',
    async () => {
      const database = (await freshDatabase())!;
      const connection = await openConnection({ kind: 'url', url: database.url });
      const db = dbOf(connection);
      const pid = sql`select pg_backend_pid() as pid`;
      try {
        const before = (await db.first<{ pid: number }>(pid))!;
        const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await admin.connect();
        await admin.query('select pg_terminate_backend($1)', [before.pid]);
        await admin.end();
        // The pool notices the closed socket and drops it; the next query gets a new connection.
        let after: number | undefined;
        for (let attempt = 0; attempt < 20 && after === undefined; attempt++) {
          try {
            after = (await db.first<{ pid: number }>(pid))!.pid;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        expect(after).toBeDefined();
        expect(after).not.toBe(before.pid);
      } finally {
        await closeConnection(connection);
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
