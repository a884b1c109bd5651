// Test-side access to the running local stack (see test/global-setup.ts).
import { randomUUID } from 'node:crypto';
import { createLogger } from '@mailroom/observability';

export function stackEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: is the local stack up? (npm run stack:up)`);
  return value;
}

/** A name no other test run uses: topics, groups, mailboxes. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export const testLogger = (name = 'test') =>
  createLogger({ name, level: (process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent' });

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}
