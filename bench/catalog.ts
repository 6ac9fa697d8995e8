/**
 * bench/catalog: 100,000 videos in Postgres; p50/p99 of get-by-id, first page, a deep keyset page,
 * search (a common term, a rare one, and two common terms that never occur together), and the same deep
 * page by OFFSET as the baseline, through the same repository the API uses. Then the EXPLAIN (ANALYZE)
 * of every statement each operation ran.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/catalog.ts [--videos 1000000]
 *
 * It creates (and afterwards drops) its own database on that server.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '#adapters/db/migrate.ts';
import type { Database } from '#adapters/db/schema.ts';
import { dbOver } from '#adapters/db/sql.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { decodeCursor, encodeCursor } from '#core/pagination.ts';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const { values: options, positionals } = parseArgs({
  options: { videos: { type: 'string' } },
  allowPositionals: true,
});
const total = Number(options.videos ?? positionals[0] ?? 100_000);
if (!Number.isInteger(total) || total < 1000) throw new Error('--videos: a whole number >= 1000');
const depth = Math.min(50_000, Math.floor(total / 2));
const pageSize = 20;
const COMMON = 'sunset';
const RARE = 'aurora';
const DISJOINT = 'sunset beach';

const name = `videocloud_bench_${process.pid}`;

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
// The repository's own statements are recorded as they run, so each operation's EXPLAIN is of exactly
// what it sent (same SQL, same parameters), not of a hand-written copy.
let recording: Array<{ sql: string; parameters: readonly unknown[] }> | undefined;
const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
pool.on('error', () => undefined); // the drop at the end closes idle connections
// Kysely for the seed and the baselines; the repository runs its own SQL (sql.ts) on the same pool.
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
const repositoryDb = dbOver(async (text, values) => {
  recording?.push({ sql: text, parameters: values });
  const result = await pool.query(text, values);
  return { rows: result.rows, count: result.rowCount ?? 0 };
});

try {
  await migrateToLatest(db);
  const seedStarted = performance.now();
  await seed(total);
  await sql`analyze`.execute(db);
  console.log(
    `catalog: seeded ${total} videos in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  const repo = new PostgresVideoRepository(repositoryDb);
  const ids = (await db.selectFrom('videos').select('id').limit(1000).execute()).map((row) => row.id);
  // The keyset position `depth` rows into the public listing, as a client paging there would hold it.
  const anchor = await db
    .selectFrom('videos')
    .select(['created_at', 'id'])
    .where('deleted_at', 'is', null)
    .where('visibility', '=', 'public')
    .where('status', '=', 'ready')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .offset(depth - 1)
    .limit(1)
    .executeTakeFirstOrThrow();
  const cursor = encodeCursor({ createdAt: anchor.created_at, id: anchor.id });

  let i = 0;
  const operations: Array<[string, () => Promise<unknown>]> = [
    ['get by id', () => repo.findById(ids[i++ % ids.length]!)],
    ['first page', () => repo.list({ take: pageSize + 1 })],
    [`keyset page at depth ${depth}`, () => repo.list({ take: pageSize + 1, after: decodeCursor(cursor) })],
    [
      `OFFSET page at depth ${depth} (baseline)`,
      () =>
        db
          .selectFrom('videos')
          .selectAll()
          .where('deleted_at', 'is', null)
          .where('visibility', '=', 'public')
          .where('status', '=', 'ready')
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .offset(depth)
          .limit(pageSize + 1)
          .execute(),
    ],
    // In a quarter of the titles and descriptions.
    [`search "${COMMON}"`, () => repo.list({ take: pageSize + 1, search: COMMON })],
    // In one video in 5,000: 20 at 100,000, spread over the whole catalog.
    [`search "${RARE}"`, () => repo.list({ take: pageSize + 1, search: RARE })],
    // Each word in a quarter of the rows, never both in one: the planner guesses 1 in 16.
    [`search "${DISJOINT}"`, () => repo.list({ take: pageSize + 1, search: DISJOINT })],
    // The baselines, side by side: how these reads were done before, same rows, same order.
    [`baseline: get by id in 3 statements`, () => byIdInThree(ids[i++ % ids.length]!)],
    ...[COMMON, RARE, DISJOINT].map(
      (term) =>
        [`baseline: search "${term}" in one`, () => searchInOne(term)] as [string, () => Promise<unknown>],
    ),
  ];
  const results = [];
  for (const [label, run] of operations) results.push(await time(label, run));
  for (const r of results) {
    console.log(
      `  ${r.name.padEnd(36)} p50 ${r.p50.toFixed(3).padStart(8)} ms   p99 ${r.p99.toFixed(3).padStart(8)} ms`,
    );
  }
  const keyset = results[2]!;
  const offset = results[3]!;
  console.log(
    `  deep page: OFFSET / keyset = ${(offset.p50 / keyset.p50).toFixed(1)}x at p50 (target >= 20x)`,
  );
  console.log(`  get by id p99 = ${results[0]!.p99.toFixed(3)} ms (target <= 3 ms)`);
  const searches = results.filter((r) => r.name.startsWith('search'));
  console.log(
    `  search p50 worst = ${Math.max(...searches.map((r) => r.p50)).toFixed(3)} ms (target <= 5 ms at 100,000)`,
  );
  for (const ours of [results[0]!, ...searches]) {
    const baseline = results.find((r) => r.name.startsWith('baseline:') && r.name.includes(ours.name))!;
    const ratio = baseline.p50 / ours.p50;
    console.log(`  ${ours.name}: baseline / ours = ${ratio.toFixed(1)}x at p50`);
  }

  for (const [label, run] of operations) {
    if (label.startsWith('OFFSET') || label.startsWith('baseline:')) continue;
    recording = [];
    await run();
    const statements = recording;
    recording = undefined;
    console.log(`  EXPLAIN ${label}: ${statements.length} statement(s)`);
    for (const [n, statement] of statements.entries()) {
      const plan = await pool.query(
        `explain (analyze, costs off, timing off, summary off) ${statement.sql}`,
        statement.parameters as unknown[],
      );
      console.log(`    [${n + 1}] ${statement.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
      for (const row of plan.rows as Array<Record<string, string>>)
        console.log(`        ${Object.values(row)[0]!.slice(0, 200)}`);
    }
  }
} finally {
  await db.destroy();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}

async function seed(count: number) {
  const owners = Array.from({ length: 200 }, (_, n) => `user-${n}`);
  await db
    .insertInto('users')
    .values(owners.map((id) => ({ id, username: id, last_seen_at: new Date() })))
    .execute();
  const words = [
    'sunset',
    'beach',
    'city',
    'night',
    'cats',
    'cooking',
    'drone',
    'mountain',
    'river',
    'concert',
    'tutorial',
    'travel',
  ];
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let offset = 0; offset < count; offset += 2000) {
    const rows = Array.from({ length: Math.min(2000, count - offset) }, (_, k) => {
      const n = offset + k;
      const id = randomUUID();
      // sunset: n % 12 in {0, 4, 8}; beach: n % 12 in {1, 5, 7}; aurora: one in 5,000.
      const title = `${words[n % words.length]} ${words[(n * 7) % words.length]}${n % 5000 === 17 ? ` ${RARE}` : ''} #${n}`;
      return {
        id,
        owner_id: owners[n % owners.length]!,
        title,
        description: `A ${words[(n * 3) % words.length]} video about ${words[(n * 5) % words.length]}`,
        visibility: n % 10 === 0 ? ('private' as const) : ('public' as const),
        status: n % 50 === 0 ? ('processing' as const) : ('ready' as const),
        created_at: new Date(start + n * 60_000),
        master_playlist_key: `videos/${id}/master.m3u8`,
        poster_key: `videos/${id}/poster.jpg`,
      };
    });
    await db.insertInto('videos').values(rows).execute();
  }
}

/** The search as one statement: the listing filtered by the term (the planner picks the index). */
async function searchInOne(term: string) {
  const rows = await db
    .selectFrom('videos')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('visibility', '=', 'public')
    .where('status', '=', 'ready')
    .where(sql<boolean>`search @@ websearch_to_tsquery('english', ${term})`)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(pageSize + 1)
    .execute();
  return withMedia(rows.map((row) => row.id));
}

/** Get by id as three statements: the row, then its renditions and captions side by side. */
async function byIdInThree(id: string) {
  const row = await db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? withMedia([row.id]) : undefined;
}

function withMedia(ids: string[]) {
  if (!ids.length) return Promise.resolve([[], []]);
  return Promise.all([
    db.selectFrom('renditions').selectAll().where('video_id', 'in', ids).orderBy('height', 'desc').execute(),
    db
      .selectFrom('captions')
      .select(['id', 'video_id', 'language', 'label'])
      .where('video_id', 'in', ids)
      .where('status', '=', 'ready')
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
  ]);
}

/** 300 samples after 30 warm-up runs; a slow baseline stops after 20 s, with at least 30 samples. */
async function time(label: string, run: () => Promise<unknown>, iterations = 300, budgetMs = 20_000) {
  const warmupStarted = performance.now();
  for (let w = 0; w < 30 && (w < 3 || performance.now() - warmupStarted < budgetMs / 4); w++) await run();
  const samples: number[] = [];
  const started = performance.now();
  for (let n = 0; n < iterations && (n < 30 || performance.now() - started < budgetMs); n++) {
    const at = performance.now();
    await run();
    samples.push(performance.now() - at);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { name: label, p50: at(0.5), p99: at(0.99) };
}
