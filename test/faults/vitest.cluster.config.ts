import { defineConfig } from 'vitest/config';

// The 3-broker leader kill (leader-kill.cluster.ts): `npm run test:faults:cluster`. The
// root config does not match *.cluster.ts files.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/leader-kill.cluster.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
