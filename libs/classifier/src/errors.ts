/** Stable codes so callers (CLI, pipeline) can branch on what went wrong. */
export type ClassifierErrorCode =
  | 'CSV_MALFORMED'
  | 'CSV_MISSING_COLUMN'
  | 'DATA_EMPTY'
  | 'DATA_TOO_FEW_CLASSES'
  | 'FILE_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'OPTION_INVALID';

/**
 * Errors as data: a stable code, a retriable flag and a cause. Nothing the classifier
 * throws is retriable — bad data or a bad model file does not fix itself on retry.
 */
export class ClassifierError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: ClassifierErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClassifierError';
  }
}
