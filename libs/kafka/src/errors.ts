/**
 * Errors are data (STYLE.md rule 5): a stable `code`, a `retriable` flag, a `cause`.
 * Only the consumer loop decides between retry and dead letter, from this verdict.
 */
export class ProcessingError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProcessingError';
  }
}

/** A record that can never succeed (bad input): dead-letter it at once. */
export const permanentError = (code: string, message: string, cause?: unknown) =>
  new ProcessingError(code, message, false, { cause });

/** A fault of the world (database restart, broker failover): retry until it passes. */
export const transientError = (code: string, message: string, cause?: unknown) =>
  new ProcessingError(code, message, true, { cause });

// Postgres SQLSTATE classes/codes that mean "try again later", never "bad record".
const TRANSIENT_PG = /^(08|53|57P0[1-3]|40001|40P01|55P03)/;
const TRANSIENT_NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export type ErrorVerdict = 'permanent' | 'transient' | 'unknown';

/**
 * permanent → dead letter now; transient → retry without limit (an outage must delay,
 * never drop); unknown (a bug, an unexpected reply) → bounded retries, then dead letter.
 */
export function classifyError(err: unknown): ErrorVerdict {
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { retriable?: unknown; code?: unknown; message?: unknown };
  if (e.retriable === false) return 'permanent';
  if (e.retriable === true) return 'transient';
  if (typeof e.code === 'string' && (TRANSIENT_PG.test(e.code) || TRANSIENT_NET.has(e.code))) {
    return 'transient';
  }
  if (
    typeof e.message === 'string' &&
    /Connection terminated|connection timeout|the database system is (starting|shutting) up/i.test(
      e.message,
    )
  ) {
    return 'transient';
  }
  return 'unknown';
}

export function errorCode(err: unknown): string {
  if (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string'
  ) {
    return (err as { code: string }).code;
  }
  return err instanceof Error ? err.name : 'UNKNOWN';
}
