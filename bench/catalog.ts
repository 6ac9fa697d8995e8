/**
 * bench/catalog: 100,000 videos in Postgres; p50/p99 of get-by-id, first page, a deep keyset page,
 * search, and the same deep page by OFFSET as the baseline, through the same repository the API uses.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/catalog.ts [videos=100000]
 *
 * It creates (and afterwards drops) its own database on that server.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { createDb } from '#adapters/db/connect.ts';
import { migrateToLatest } from '#adapters/db/migrate.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { decodeCursor, encodeCursor } from '#core/pagination.ts';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const total = Number(process.argv[2] ?? 100_000);
const depth = Math.min(50_000, Math.floor(total / 2));
const pageSize = 20;
const name = `videocloud_bench_${process.pid}`;

const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(serverUrl);
url.pathname = `/${name}`;
const db = await createDb({ kind: 'url', url: url.toString() }, { poolSize: 2 });

try {
  await migrateToLatest(db);
  const seedStarted = performance.now();
  await seed(total);
  await sql`analyze`.execute(db);
  console.log(
    `catalog: seeded ${total} videos in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  const repo = new PostgresVideoRepository(db);
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
  const results = [
    await time('get by id', () => repo.findById(ids[i++ % ids.length]!)),
    await time('first page', () => repo.list({ take: pageSize + 1 })),
    await time(`keyset page at depth ${depth}`, () =>
      repo.list({ take: pageSize + 1, after: decodeCursor(cursor) }),
    ),
    await time(`OFFSET page at depth ${depth} (baseline)`, () =>
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
    ),
    await time('search "sunset beach"', () => repo.list({ take: pageSize + 1, search: 'sunset beach' })),
  ];
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
  console.log(`  get by id p99 = ${results[0]!.p99.toFixed(3)} ms (target < 2 ms)`);

  for (const [label, query] of [
    ['get by id', sql`explain select * from videos where id = ${ids[0]}`],
    [
      'keyset page',
      sql`explain select * from videos where deleted_at is null and visibility = 'public' and status = 'ready'
        and (created_at, id) < (${anchor.created_at}, ${anchor.id}) order by created_at desc, id desc limit 21`,
    ],
    [
      'search',
      sql`explain select * from videos where deleted_at is null and visibility = 'public' and status = 'ready'
        and search @@ websearch_to_tsquery('english', 'sunset beach') order by created_at desc, id desc limit 21`,
    ],
  ] as const) {
    const plan = (await query.execute(db)).rows.map((row) => Object.values(row as object)[0] as string);
    const scans = plan
      .filter((line) => /Scan/.test(line))
      .map((line) => line.trim().replace(/\s+\(cost.*$/, ''));
    console.log(`  EXPLAIN ${label}: ${scans.join(' / ')}`);
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
      const title = `${words[n % words.length]} ${words[(n * 7) % words.length]} #${n}`;
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

async function time(label: string, run: () => Promise<unknown>, iterations = 300) {
  for (let w = 0; w < 30; w++) await run();
  const samples: number[] = [];
  for (let n = 0; n < iterations; n++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { name: label, p50: at(0.5), p99: at(0.99) };
}
