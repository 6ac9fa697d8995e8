import { afterAll, beforeAll, describe } from '@jest/globals';
import { type AbuseRuntime, fuzzTest, startAbuseRuntime } from '#test/helpers/fuzz.ts';
import { RUNTIME_START_MS } from '#test/helpers/runtime.ts';

/**
 * The full schema-driven fuzz run: 10,000 requests (fewer, but at least 2,000, when a loaded machine cannot
 * answer them within its budget). `npm test` sends the first 1,500 of the same sequence
 * (test/integration/abuse.test.ts, beside the other abuse tests).
 */
describe('abuse, the full fuzz run', () => {
  let abuse: AbuseRuntime;
  beforeAll(async () => {
    abuse = await startAbuseRuntime();
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await abuse?.close();
  }, 30_000);

  fuzzTest({ requests: 10_000, budgetMs: 100_000, minimum: 2_000 }, () => abuse);
});
