import { defineConfig } from 'vitest/config';

// One runner for every workspace. Integration tests talk to the real services of the
// local stack; test/global-setup.ts makes sure it is up (and starts it if it is not).
//
// Two groups, one after the other. The tests that run the whole pipeline (categorizer,
// router, ticket-store, notifier together) act on every ticket on the shared topics, so
// they run last and one file at a time; everything else runs first, in parallel.
const PIPELINE = [
  'test/e2e/**/*.test.ts',
  'test/console/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'apps/analytics/test/dashboards.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'isolated',
          include: [
            'apps/*/src/**/*.test.ts',
            'libs/*/src/**/*.test.ts',
            'apps/*/test/**/*.test.ts',
            'libs/*/test/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', ...PIPELINE],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'pipeline',
          include: PIPELINE,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
