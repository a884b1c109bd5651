import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { parseRetryAfterMs } from './retry.js';

// Errors are data (STYLE.md rule 5): a stable code, a retriable flag and the cause.
// The retry loop, the circuit breaker, the fallback and the metrics all branch on
// `code`, never on a message or an SDK class.

export const LLM_ERROR_KINDS = {
  LLM_RATE_LIMITED: 'rate_limited',
  LLM_OVERLOADED: 'overloaded',
  LLM_SERVER_ERROR: 'server_error',
  LLM_CONNECTION: 'connection',
  LLM_TIMEOUT: 'timeout',
  LLM_INVALID_OUTPUT: 'invalid_output',
  LLM_AUTH: 'auth',
  LLM_BAD_REQUEST: 'bad_request',
  LLM_SPEND_LIMIT: 'spend_limit',
  LLM_CIRCUIT_OPEN: 'circuit_open',
  LLM_ABORTED: 'aborted',
  LLM_UNEXPECTED: 'unexpected',
} as const;

export type LlmErrorCode = keyof typeof LLM_ERROR_KINDS;
export type LlmErrorKind = (typeof LLM_ERROR_KINDS)[LlmErrorCode];

const RETRIABLE: ReadonlySet<LlmErrorCode> = new Set([
  'LLM_RATE_LIMITED',
  'LLM_OVERLOADED',
  'LLM_SERVER_ERROR',
  'LLM_CONNECTION',
  'LLM_TIMEOUT',
]);

export interface LlmErrorDetails {
  status?: number;
  /** How long the API asked us to wait (retry-after), in ms. */
  retryAfterMs?: number;
  requestId?: string;
  /** HTTP attempts made before giving up, set by the retry loop. */
  attempts?: number;
}

export class LlmError extends Error {
  readonly kind: LlmErrorKind;
  readonly retriable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  attempts: number | undefined;

  constructor(
    readonly code: LlmErrorCode,
    message: string,
    options: { cause?: unknown } & LlmErrorDetails = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'LlmError';
    this.kind = LLM_ERROR_KINDS[code];
    // Transient upstream conditions only; a bad answer, a bad key or a spent budget
    // does not get better by asking again within seconds.
    this.retriable = RETRIABLE.has(code);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.requestId = options.requestId;
    this.attempts = options.attempts;
  }

  /** Safe to log: no ticket content, no headers. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      retriable: this.retriable,
      message: this.message,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      requestId: this.requestId,
      attempts: this.attempts,
    };
  }
}

export interface ToLlmErrorContext {
  /** Our own total deadline fired (as opposed to the caller aborting). */
  deadlineExceeded?: boolean;
  now?: number;
}

function codeForStatus(status: number, errorCode: string | null): LlmErrorCode {
  if (status === 401 || status === 403) return 'LLM_AUTH';
  // A spent budget is a 429 too, but waiting seconds will not help (API docs).
  if (status === 429)
    return errorCode?.includes('spend_limit') ? 'LLM_SPEND_LIMIT' : 'LLM_RATE_LIMITED';
  if (status === 402) return 'LLM_SPEND_LIMIT';
  if (status === 529) return 'LLM_OVERLOADED';
  if (status === 408) return 'LLM_TIMEOUT';
  if (status === 409 || status >= 500) return 'LLM_SERVER_ERROR';
  return 'LLM_BAD_REQUEST';
}

/** Maps anything thrown by the SDK (or by us) to an LlmError. */
export function toLlmError(err: unknown, ctx: ToLlmErrorContext = {}): LlmError {
  if (err instanceof LlmError) return err;
  // Order matters: these are subclasses of APIError without a status.
  if (err instanceof APIConnectionTimeoutError) {
    return new LlmError('LLM_TIMEOUT', 'request timed out', { cause: err });
  }
  if (err instanceof APIUserAbortError || isAbortError(err)) {
    return ctx.deadlineExceeded
      ? new LlmError('LLM_TIMEOUT', 'total deadline exceeded', { cause: err })
      : new LlmError('LLM_ABORTED', 'aborted by caller', { cause: err });
  }
  if (err instanceof APIConnectionError) {
    return new LlmError('LLM_CONNECTION', `connection failed: ${err.message}`, { cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const code = codeForStatus(err.status, err.errorCode);
    const headers = err.headers as Headers | undefined;
    return new LlmError(code, `API ${err.status} ${err.type ?? ''}`.trim(), {
      cause: err,
      status: err.status,
      retryAfterMs: headers ? parseRetryAfterMs(headers, ctx.now) : undefined,
      requestId: err.requestID ?? undefined,
    });
  }
  // Most likely a bug of ours: not retried, but the fallback still answers.
  return new LlmError('LLM_UNEXPECTED', `unexpected error: ${String(err)}`, { cause: err });
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
