import { defineConfig } from 'vitest/config';

// The machine-wide faults (Postgres restart, 3-broker leader kill, IMAP outage): run only
// by `npm run test:faults:heavy`, never by `npm test` (the root config does not match
// *.heavy.ts files).
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/heavy-faults.heavy.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
