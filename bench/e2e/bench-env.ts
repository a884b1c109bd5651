// The environment of a pipeline benchmark: the running stack's addresses (runtime.env of
// `npm run stack:up`), the test database, and the fixed settings every bench shares.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Loads the stack's runtime.env into process.env (set variables win); returns its paths. */
export function loadBenchEnv(): { root: string; dataDir: string } {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dataDir = process.env.MAILROOM_DATA_DIR ?? `${root}.data`;
  const runtimeEnv = `${dataDir}/runtime.env`;
  if (!existsSync(runtimeEnv)) throw new Error(`${runtimeEnv} missing: run npm run stack:up`);
  for (const line of readFileSync(runtimeEnv, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m?.[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
  // A bench writes tens of thousands of tickets: into the test database, not npm start's.
  process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  process.env.MAILROOM_ROOT = root;
  process.env.REPLY_TOKEN_SECRET ??= 'mailroom-bench-reply-token-secret-0123456789';
  process.env.TEST_LOG_LEVEL ??= 'silent';
  return { root, dataDir };
}
