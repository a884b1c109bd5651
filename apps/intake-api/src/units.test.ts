import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';
import { canonicalJson, requestHash, ticketIdOf } from './idempotency.js';
import { findNul } from './json-body.js';
import { deterministicId } from '@mailroom/events';

describe('cursor', () => {
  const c = {
    sort: 'priority' as const,
    createdAt: '2024-01-01T12:00:00.123456Z',
    id: '0b5b6a3e-8a8e-4d0e-9d6e-1b2c3d4e5f60',
    rank: 2,
  };
  it('round-trips and is bound to its sort', () => {
    expect(decodeCursor(encodeCursor(c), 'priority')).toEqual(c);
    expect(() => decodeCursor(encodeCursor(c), 'created_at_asc')).toThrow(/sort=priority/);
  });
  it('refuses tampered cursors', () => {
    const forged = Buffer.from(JSON.stringify(['priority', "x'; DROP", c.id, 1])).toString(
      'base64url',
    );
    expect(() => decodeCursor(forged, 'priority')).toThrow(/bad timestamp/);
    expect(() => decodeCursor('%%%', 'priority')).toThrow(/not a cursor/);
  });
});

describe('idempotency', () => {
  it('hashes equal documents equally, whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    expect(requestHash({ a: 1, b: 2 })).toBe(requestHash({ b: 2, a: 1 }));
    expect(requestHash({ a: 1 })).not.toBe(requestHash({ a: 2 }));
  });
  it('derives the ticket id as ticket-store does', () => {
    expect(ticketIdOf('s1')).toBe(deterministicId('ticket', 'api:s1'));
  });
});

describe('findNul', () => {
  it('names the path of the first NUL', () => {
    expect(findNul({ a: 'ok', b: [{ c: 'x\u0000' }] })).toBe('/b/0/c');
    expect(findNul({ 'k\u0000': 1 })).toBe('/k\\u0000');
    expect(findNul({ a: 'fine' })).toBeUndefined();
  });
});
