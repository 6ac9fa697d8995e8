/**
 * `tsx test/helpers/pglite-template.ts DIR`: a PGlite data directory at DIR with every migration applied,
 * which test runtimes copy instead of running initdb and the migrations each (test/global-setup.js).
 */
import { createDb } from '#adapters/db/connect.ts';
import { migrateToLatest } from '#adapters/db/migrate.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pglite-template.ts DIR');
const db = await createDb({ kind: 'pglite', dataDir: dir });
await migrateToLatest(db);
await db.destroy();
