// Restarts the local stack's single Kafka broker the way an operator would: SIGTERM to
// the process group of its pid file (a clean shutdown), then deploy/local/up.sh, which
// is idempotent and starts only what is not running.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stackEnv } from '../../support/env.js';

const run = promisify(execFile);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops the broker; resolves when its process is gone. */
export async function stopBroker(graceMs = 30_000): Promise<void> {
  const pidFile = join(stackEnv('MAILROOM_DATA_DIR'), 'run', 'kafka.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bad pid in ${pidFile}`);
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s); // started in its own session: the group is the JVM
    } catch {
      process.kill(pid, s);
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) signal('SIGKILL');
    await sleep(200);
  }
}

/** Starts it again and waits until it is RUNNING (up.sh's own wait). */
export async function startBroker(): Promise<void> {
  await run('bash', [join(stackEnv('MAILROOM_ROOT'), 'deploy/local/up.sh')], {
    env: process.env,
    maxBuffer: 16 * 1024 * 1024,
  });
}
