/** Stable codes a caller can branch on when it dead-letters a message. */
export type MailParseErrorCode =
  | 'EMPTY_MESSAGE'
  | 'NOT_A_MESSAGE'
  | 'TOO_LARGE'
  | 'TIMEOUT'
  | 'SOURCE_ERROR'
  | 'ATTACHMENT_SINK_FAILED'
  | 'PARSE_FAILED';

/**
 * A message we could not turn into anything useful. It is returned, never thrown, by
 * `parseMail`: only the consumer loop decides between retry and dead letter
 * (STYLE.md rule 5). Source read errors are the only retriable ones — the bytes may
 * be fine on a second fetch — and attachment sink failures (the blob store was down);
 * a malformed message will fail the same way again.
 */
export class MailParseError extends Error {
  readonly code: MailParseErrorCode;
  readonly retriable: boolean;
  readonly reason: string;

  constructor(code: MailParseErrorCode, reason: string, options?: { cause?: unknown }) {
    super(`${code}: ${reason}`, options);
    this.name = 'MailParseError';
    this.code = code;
    this.reason = reason;
    this.retriable = code === 'SOURCE_ERROR' || code === 'ATTACHMENT_SINK_FAILED';
  }

  toJSON(): { code: MailParseErrorCode; reason: string; retriable: boolean } {
    return { code: this.code, reason: this.reason, retriable: this.retriable };
  }
}
