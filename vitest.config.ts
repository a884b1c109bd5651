import { defineConfig } from 'vitest/config';

// One runner for every workspace. Integration tests talk to the real services of the
// local stack; test/global-setup.ts makes sure it is up (and starts it if it is not).
export default defineConfig({
  test: {
    include: [
      'apps/*/src/**/*.test.ts',
      'libs/*/src/**/*.test.ts',
      'apps/*/test/**/*.test.ts',
      'libs/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
