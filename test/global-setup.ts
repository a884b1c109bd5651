// Makes sure the local stack runs before any test: tests talk to the real services.
// Starts it (deploy/local/up.sh, idempotent) when it is not up, and fails loudly when
// it cannot be started. Exports the stack's addresses to the test workers' environment.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function stackIsUp(): boolean {
  try {
    execFileSync('bash', [`${root}/deploy/local/status.sh`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default async function setup(): Promise<void> {
  const dataDir = process.env.MAILROOM_DATA_DIR ?? `${root}/.data`;
  const runtimeEnv = `${dataDir}/runtime.env`;
  if (!existsSync(runtimeEnv) || !stackIsUp()) {
    console.log('[tests] local stack not running: starting it with deploy/local/up.sh');
    execFileSync('bash', [`${root}/deploy/local/up.sh`], { stdio: 'inherit' });
  }
  for (const line of readFileSync(runtimeEnv, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)=(.*)$/);
    if (m?.[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
  // Tests use their own database, never the one `npm start` runs on.
  process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
  process.env.MAILROOM_ROOT = root;
  // Test files run in parallel and their ticket-stores all consume tickets.raw: one
  // shared configuration makes every instance thread and authorize mail the same way,
  // whichever of them handles a record first.
  process.env.REPLY_TOKEN_SECRET ??= 'mailroom-test-reply-token-secret-0123456789';
  process.env.AGENT_ADDRESSES ??= '@agents.example.test';
  // Migrations added since the stack started apply before any test runs.
  const { migrate } = await import('@mailroom/db');
  await migrate({ url: process.env.DATABASE_URL! });
}
