import { badRequest } from './errors.js';
import type { Sort } from './schemas.js';

/** Where a page ended: the sort it belongs to and the last row's sort key. */
export interface Cursor {
  sort: Sort;
  /** created_at in UTC with microseconds (a JS Date would lose them). */
  createdAt: string;
  id: string;
  /** priority rank, for sort=priority */
  rank?: number;
}

/** Opaque to clients: base64url of a small JSON document. */
export function encodeCursor(cursor: Cursor): string {
  const { sort, createdAt, id, rank } = cursor;
  return Buffer.from(JSON.stringify([sort, createdAt, id, rank ?? null])).toString('base64url');
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(text: string, sort: Sort): Cursor {
  const invalid = (why: string) =>
    badRequest('INVALID_CURSOR', `cursor is not valid: ${why}`, [
      { field: 'querystring/cursor', reason: why },
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor of this API');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw invalid('not a cursor of this API');
  const [s, createdAt, id, rank] = parsed as unknown[];
  if (s !== sort) throw invalid(`it belongs to sort=${String(s)}, not sort=${sort}`);
  if (typeof createdAt !== 'string' || !TIMESTAMP.test(createdAt)) {
    throw invalid('bad timestamp');
  }
  if (typeof id !== 'string' || !UUID.test(id)) throw invalid('bad id');
  if (rank !== null && typeof rank !== 'number') throw invalid('bad rank');
  return { sort, createdAt, id, ...(typeof rank === 'number' ? { rank } : {}) };
}
