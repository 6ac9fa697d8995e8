// Once per jest run, before any test file (integration, e2e, browser): a migrated PGlite data directory
// that startTestRuntime copies (test/helpers/runtime.ts). A fresh PGlite runs initdb, several seconds
// per test file on a loaded 2-core machine; a copy takes a fraction of one. The same migrations still
// run for real: here, and again (a no-op) on every runtime start.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** What the template is made of: the migrations, the code that applies them, and the PGlite build. */
function templateKey() {
  const hash = createHash('sha256');
  const migrations = join(root, 'lambdas/adapters/db/migrations');
  const files = [
    ...readdirSync(migrations)
      .sort()
      .map((name) => join(migrations, name)),
    join(root, 'lambdas/adapters/db/migrate.ts'),
    join(root, 'lambdas/adapters/db/connect.ts'),
    join(root, 'lambdas/adapters/db/connection.ts'),
    join(root, 'node_modules/@electric-sql/pglite/package.json'),
  ];
  for (const file of files) hash.update(file.slice(root.length)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

export default function globalSetup() {
  if (process.env.DATABASE_URL) return; // CI's PostgreSQL pass: each runtime gets a fresh database there
  const dir = join(tmpdir(), `videocloud-pglite-template-${templateKey()}`);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    // Built beside, then renamed into place: a concurrent run never copies half a template.
    const building = mkdtempSync(`${dir}.building-`);
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(root, 'test/helpers/pglite-template.ts'), join(building, 'pg')],
        {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, LOG_LEVEL: 'ERROR', NODE_OPTIONS: '' },
        },
      );
      try {
        renameSync(join(building, 'pg'), dir);
      } catch (error) {
        if (!existsSync(join(dir, 'PG_VERSION'))) throw error; // another run put the same one there first
      }
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
  }
  process.env.VIDEOCLOUD_TEST_PGLITE_TEMPLATE = dir;
}
