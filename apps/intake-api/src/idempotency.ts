import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { deterministicId } from '@mailroom/events';
import { ApiError, badRequest } from './errors.js';

/** JSON with object keys sorted, so that equal documents hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const requestHash = (body: unknown) =>
  createHash('sha256').update(canonicalJson(body)).digest('hex');

/** ticket-store derives the ticket id the same way: the 202 answer carries the final id. */
export const ticketIdOf = (submissionId: string) =>
  deterministicId('ticket', `api:${submissionId}`);

export interface SubmissionIds {
  submissionId: string;
  ticketId: string;
  /** true when this Idempotency-Key was seen before with the same body. */
  replay: boolean;
}

export function newSubmission(): SubmissionIds {
  const submissionId = randomUUID();
  return { submissionId, ticketId: ticketIdOf(submissionId), replay: false };
}

export function checkIdempotencyKey(key: string): void {
  if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw badRequest(
      'INVALID_IDEMPOTENCY_KEY',
      'Idempotency-Key must be 1-255 visible ASCII characters',
      [{ field: 'headers/idempotency-key', reason: 'must be 1-255 visible ASCII characters' }],
    );
  }
}

/**
 * Claims an Idempotency-Key for a body. The submission id derives from (API key, key),
 * so a retry produces the very same submission again, which ticket-store dedupes: a
 * retry after a lost answer, or after a crash between this row and the Kafka ack,
 * both end with one ticket. The same key with another body is refused (422).
 */
export async function claimIdempotencyKey(
  pool: pg.Pool,
  apiKeyId: string,
  key: string,
  body: unknown,
): Promise<SubmissionIds> {
  const submissionId = deterministicId('submission', apiKeyId, key);
  const ticketId = ticketIdOf(submissionId);
  const hash = requestHash(body);
  const inserted = await pool.query(
    `INSERT INTO idempotency_keys (api_key_id, key, request_hash, ticket_id, submission_id)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (api_key_id, key) DO NOTHING`,
    [apiKeyId, key, hash, ticketId, submissionId],
  );
  if (inserted.rowCount === 1) return { submissionId, ticketId, replay: false };
  const { rows } = await pool.query<{ request_hash: string }>(
    'SELECT request_hash FROM idempotency_keys WHERE api_key_id = $1 AND key = $2',
    [apiKeyId, key],
  );
  if (rows[0]?.request_hash !== hash) {
    throw new ApiError(
      422,
      'IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was already used with a different request body',
      { details: [{ field: 'headers/idempotency-key', reason: 'already used with another body' }] },
    );
  }
  return { submissionId, ticketId, replay: true };
}
