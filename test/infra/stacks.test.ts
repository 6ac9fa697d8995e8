import { readdirSync } from 'node:fs';
import { expect, test } from '@jest/globals';

/**
 * Every CDK assertion file (test/infra/*.spec.ts) runs inside this one jest test file. Jest gives each test
 * file its own module registry, so as files of their own each loaded aws-cdk-lib and synthesized both
 * stages again; here buildStage (app.ts) synthesizes each stage once for all of them, and every assertion
 * is the same. The files are found, not listed: a new one runs without anyone adding it here.
 */
const specs = readdirSync(import.meta.dirname)
  .filter((name) => name.endsWith('.spec.ts'))
  .sort();
for (const spec of specs) await import(`./${spec}`);

test('loads every CDK assertion file', () => {
  expect(specs.length).toBeGreaterThanOrEqual(17);
});
