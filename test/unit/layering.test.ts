/**
 * The layering rules of `npm run lint` (.dependency-cruiser.cjs) catch what they are for: each fixture
 * under test/fixtures/layering breaks one rule, and the real tree breaks none.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { cruise, type ICruiseResult } from 'dependency-cruiser';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs') as {
  forbidden: unknown[];
  options: Record<string, unknown>;
};
const root = fileURLToPath(new URL('../..', import.meta.url));

async function violations(baseDir: string, paths: string[]) {
  const { output } = await cruise(paths, {
    ...config.options,
    baseDir,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  } as never);
  return (output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe('layering', () => {
  test('each rule catches the fixture that breaks it', async () => {
    const found = await violations(`${root}test/fixtures/layering`, ['lambdas', 'lib', 'web', 'local']);
    expect(found.sort()).toEqual([
      'browser-client-is-a-browser-app: web/src/page.ts -> lambdas/adapters/storage.ts',
      'browser-client-takes-only-types-of-the-api: web/src/values.ts -> lambdas/api/schemas.ts',
      'core-is-the-domain: lambdas/core/domain.ts -> lambdas/adapters/storage.ts',
      'edge-takes-ports: lambdas/http/auth.ts -> lambdas/adapters/storage.ts',
      'edge-takes-ports: lambdas/http/driver.ts -> ../../../node_modules/pg/esm/index.mjs',
      'infrastructure-uses-no-adapter: lib/construct.ts -> lambdas/adapters/storage.ts',
      'lambdas-stand-alone: lambdas/api/handler.ts -> local/runtime.ts',
      'public-routes-bundle-no-data-access: lambdas/api/docs.ts -> lambdas/adapters/storage.ts',
      'queries-are-sql: lambdas/adapters/db/repository.ts -> ../../../node_modules/kysely/dist/index.js',
      'queries-are-sql: lambdas/api/kysely-handle.ts -> lambdas/adapters/db/connect.ts',
    ]);
  });
});
