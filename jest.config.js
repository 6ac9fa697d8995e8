// Native ESM + @swc/jest: type-checking is `npm run typecheck`'s job, so tests stay fast.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const base = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // Per-kind deadlines for tests and hooks (test/setup-timeouts.ts): Jest's 5 s suits none but unit tests.
  setupFilesAfterEnv: ['<rootDir>/test/setup-timeouts.ts'],
};

// Files that start the local runtime: they copy the migrated PGlite template this makes once per run.
const runtimeSetup = { globalSetup: '<rootDir>/test/global-setup.js' };

const BROWSER_TESTS = ['<rootDir>/test/e2e/browser.test.ts', '<rootDir>/test/e2e/players.test.ts'];

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...base,
      ...runtimeSetup,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    { ...base, displayName: 'infra', testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      ...base,
      ...runtimeSetup,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...BROWSER_TESTS],
    },
    // Real Chromium against the local stack (`npm run test:browser`): the web client, and playback in
    // other people's players; kept out of `e2e` so each runs once.
    {
      ...base,
      ...runtimeSetup,
      displayName: 'browser',
      testMatch: BROWSER_TESTS,
    },
  ],
};
