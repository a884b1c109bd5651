// Random and adversarial requests for the REST API (seeded, so a failure replays):
// random JSON, mutations of a valid submission, broken JSON text, odd headers and
// bodies, garbage ids and queries on the other routes. Some cases are valid but odd
// (unicode, maximum sizes); they must go all the way through like any ticket.
import { randomUUID } from 'node:crypto';

export interface FuzzCase {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Set when the body is a valid submission of ours: if accepted, it is audited. */
  title?: string;
  requester?: string;
}

/** mulberry32: small, seeded, good enough to pick cases. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const KEYS = [
  'title',
  'description',
  'requester',
  'hints',
  'attachments',
  'email',
  'name',
  'priority',
  'department',
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  'é',
  '$where',
];
const STRINGS = [
  '',
  ' ',
  'a',
  'null',
  '0',
  '<script>alert(1)</script>',
  "'; DROP TABLE tickets; --",
  '\u202Eevil',
  '😀'.repeat(50),
  'x'.repeat(600),
  '%00',
  '../../etc/passwd',
  'a@b',
  '@',
  'a@',
  'not an email',
  'user@example.test\r\nBcc: victim@example.test',
  '\uD800',
  '{{title}}',
];

function randomValue(r: Rng, depth: number): unknown {
  switch (depth > 3 ? r.int(4) : r.int(7)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 31]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return r.int(1000).toString(36);
    case 4:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) o[r.pick(KEYS)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** `count` cases; the case's headers go over the runner's (authorization included). */
export function fuzzCases(seed: number, count: number, marker: string, domain: string): FuzzCase[] {
  const r = rng(seed);
  const json = { 'content-type': 'application/json' };
  const out: FuzzCase[] = [];
  const requesterOf = (i: number) => `${marker}-f${i}@${domain}`.toLowerCase();
  const valid = (i: number, title: string, extra: Record<string, unknown> = {}) => {
    const requester = requesterOf(i);
    const t = `${marker} f${i} ${title}`;
    return {
      title: t,
      requester,
      body: JSON.stringify({
        title: t,
        description: 'Fuzzed but valid.',
        requester: { email: requester, name: 'Fuzz Tester' },
        ...extra,
      }),
    };
  };
  for (let i = 0; i < count; i++) {
    const kind = r.int(10);
    const name = `#${i}`;
    if (kind <= 2) {
      out.push({
        name: `${name} random json`,
        method: 'POST',
        path: '/api/tickets',
        headers: json,
        body: JSON.stringify(randomValue(r, 0)) ?? 'null',
      });
    } else if (kind === 3) {
      const v = JSON.parse(valid(i, 'mutated').body) as Record<string, unknown>;
      const key = r.pick(['title', 'description', 'requester', 'hints', 'attachments', 'extra']);
      v[key] = randomValue(r, 1);
      // A random string is a valid title: then it is one of ours, to be audited by it.
      const ours = key !== 'requester' && (key !== 'title' || typeof v.title === 'string');
      out.push({
        name: `${name} mutated ${key}`,
        method: 'POST',
        path: '/api/tickets',
        headers: json,
        body: JSON.stringify(v),
        ...(ours ? { title: v.title as string, requester: requesterOf(i) } : {}),
      });
    } else if (kind === 4) {
      const text = r.pick([
        '',
        '{',
        '{"title":',
        '[1,2',
        '{"a":1,}',
        'NaN',
        '\uFEFF{}',
        'null',
        '"str"',
        '[]',
        '{"title":"\\ud800"}',
        nested(10_000),
        '{"__proto__":{"admin":true}}',
      ]);
      out.push({
        name: `${name} broken json`,
        method: 'POST',
        path: '/api/tickets',
        headers: json,
        body: text,
      });
    } else if (kind === 5) {
      const body = r.pick([
        Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]),
        Buffer.alloc(1_200_000, 0x61),
        `{"title":"${'x'.repeat(1_100_000)}"}`,
        'title=a&description=b',
      ]);
      const type = r.pick([
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        '',
      ]);
      out.push({
        name: `${name} odd body (${type})`,
        method: 'POST',
        path: '/api/tickets',
        headers: type ? { 'content-type': type } : {},
        body,
      });
    } else if (kind === 6) {
      const headers = r.pick<Record<string, string>>([
        { ...json, authorization: 'Bearer wrong-key-0123456789' },
        { ...json, authorization: 'Basic YTpi' },
        { ...json, authorization: '' },
        { ...json, 'idempotency-key': 'k'.repeat(300) },
        { ...json, 'idempotency-key': '' },
        { ...json, prefer: 'wait=99999999999999999999' },
        { ...json, traceparent: 'garbage' },
      ]);
      out.push({
        name: `${name} odd headers`,
        method: 'POST',
        path: '/api/tickets',
        headers,
        ...valid(i, 'headers'),
      });
    } else if (kind === 7) {
      const id = r.pick([
        randomUUID(),
        '0',
        '-1',
        '99999999999999999999',
        'abc',
        '%00',
        '..%2f',
        'x'.repeat(65),
      ]);
      const [method, path] = r.pick([
        ['GET', `/api/tickets/${id}`],
        ['PATCH', `/api/tickets/${id}`],
        ['PUT', `/api/tickets/${id}/status`],
        ['POST', `/api/tickets/${id}/route`],
        [
          'GET',
          `/api/tickets?limit=${r.pick(['-1', '0', '1e9', 'abc'])}&status=${r.pick(['x', 'pending', ''])}&cursor=${r.pick(['garbage', '', '%ff'])}`,
        ],
        [
          'GET',
          `/api/tickets?search=${encodeURIComponent(r.pick(STRINGS).replace(/[\uD800-\uDFFF]/g, '?'))}&sort=${r.pick(['x', '-created', ''])}`,
        ],
      ] as const);
      out.push({
        name: `${name} ${method} ${path.slice(0, 40)}`,
        method,
        path,
        headers: json,
        ...(method === 'GET' ? {} : { body: JSON.stringify(randomValue(r, 0)) ?? 'null' }),
      });
    } else {
      // Valid but odd: the pipeline must carry these to an acknowledgement.
      const odd = r.pick([
        () => valid(i, 'unicode ünïcødé 😀 \u202Eright-to-left \u0007bell'),
        () => valid(i, 'max description', { description: 'ab '.repeat(33_333) }),
        () => valid(i, 'hints', { hints: { priority: 'critical' } }),
        () => valid(i, 'quotes "\'`<>&', { description: '<html><body onload=x>' }),
        () => valid(i, 'nul byte', { description: 'before\u0000after' }),
        () => valid(i, 'header injection\r\nBcc: victim@example.test'),
      ])();
      out.push({
        name: `${name} valid odd`,
        method: 'POST',
        path: '/api/tickets',
        headers: json,
        ...odd,
      });
    }
  }
  return out;
}
