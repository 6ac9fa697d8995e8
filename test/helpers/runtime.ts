import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { LocalConfig } from '#local/config.ts';
import { type LocalRuntime, pgliteDataDir, startLocalRuntime } from '#local/runtime.ts';

/**
 * Starts the whole local runtime for one test file: a fresh data dir, a free port, and either PGlite
 * (started from a copy of the migrated template test/global-setup.js made for this run, when there is
 * one) or, when DATABASE_URL is set (CI's second pass), a fresh database on that server, dropped afterwards.
 */
export interface TestRuntime extends LocalRuntime {
  dataDir: string;
  token(sub: string, groups?: Array<'admin' | 'creator' | 'viewer'>, scope?: string): Promise<string>;
  api(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * What a hook that starts (or stops) a runtime may take: seconds on an idle machine, but over a minute was
 * seen with the 2 cores at load 20 (PGlite, migrations, every handler module loaded through the transform).
 */
export const RUNTIME_START_MS = 180_000;

/** No single API call of a test takes this long unless something hangs. */
const API_CALL_TIMEOUT_MS = 45_000;

/** The machine's temporary directory, not a running runtime's scratch (it points TMPDIR there). */
const TEST_TMP = tmpdir();

export async function startTestRuntime(
  options: { dataDir?: string; local?: Partial<LocalConfig> } = {},
): Promise<TestRuntime> {
  const dataDir = options.dataDir ?? mkdtempSync(join(TEST_TMP, 'videocloud-test-'));
  const database = await freshDatabase();
  const template = process.env.VIDEOCLOUD_TEST_PGLITE_TEMPLATE;
  // Unless a restart on this data dir already has one.
  const pgliteDir = pgliteDataDir(dataDir);
  if (!database && template && !existsSync(pgliteDir)) cpSync(template, pgliteDir, { recursive: true });
  const runtime = await startLocalRuntime({
    PORT: 0,
    HOST: '127.0.0.1',
    VIDEOCLOUD_DATA_DIR: dataDir,
    DATABASE_URL: database?.url,
    WEB_ORIGINS: ['http://web.example.test'],
    EMBED_ORIGINS: ['*'],
    LOG_LEVEL: 'ERROR',
    // Short, so retries and dead-lettering happen within a test.
    QUEUE_VISIBILITY_SECONDS: 0.3,
    ...options.local,
  });
  return {
    ...runtime,
    dataDir,
    async token(sub, groups = ['creator'], scope) {
      return runtime.issuer.mint({ sub, groups, ...(scope ? { scope } : {}) }).access_token;
    },
    async api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set('Authorization', `Bearer ${init.token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('Content-Type', 'application/json');
        body = JSON.stringify(init.json);
      }
      // A request that hangs fails on its own, naming itself, well before the test's deadline.
      const signal = init.signal ?? AbortSignal.timeout(API_CALL_TIMEOUT_MS);
      return fetch(`${runtime.url}${path}`, { ...init, headers, body, signal }).catch((error: unknown) => {
        throw new Error(`${init.method ?? 'GET'} ${path}: ${(error as Error).message}`, { cause: error });
      });
    },
    async close() {
      await runtime.stop();
      await database?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** With DATABASE_URL set, a throwaway database on that server; otherwise undefined (PGlite is used). */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return undefined;
  const name = `videocloud_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
