import { expect, jest } from '@jest/globals';

/**
 * Deadlines for every test and hook, by kind, generous enough for a loaded 2-core machine (a hook that
 * starts the whole local runtime takes seconds there). A test that needs longer says so itself.
 */
const DEADLINES_MS: Array<[RegExp, number]> = [
  [/[\\/]test[\\/]unit[\\/]/, 20_000],
  [/[\\/]test[\\/]integration[\\/]/, 90_000],
  [/[\\/]test[\\/]infra[\\/]/, 120_000],
  [/[\\/]test[\\/]e2e[\\/]/, 300_000],
];

const path = expect.getState().testPath ?? '';
jest.setTimeout(DEADLINES_MS.find(([pattern]) => pattern.test(path))?.[1] ?? 20_000);
