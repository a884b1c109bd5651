import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent, deterministicId, TOPICS } from '@mailroom/events';
import { waitFor } from '../../../../test/support/env.js';
import {
  insertTicket,
  json,
  makeKey,
  openHarness,
  tapTopic,
  testApp,
  type Harness,
} from '../../test/harness.js';
import type { App } from '../app-types.js';
import { requestedWait } from './submit-ticket.js';

let h: Harness;
let app: App;
let tap: Awaited<ReturnType<typeof tapTopic>>;
let intake: Awaited<ReturnType<typeof makeKey>>;

beforeAll(async () => {
  h = await openHarness();
  app = await testApp(h, { waitMaxSeconds: 10 });
  tap = await tapTopic(TOPICS.raw);
  intake = await makeKey(h.pool, 'intake');
});
afterAll(async () => {
  await tap.stop();
  await app.close();
  await h.close();
});

const ticket = (over: Record<string, unknown> = {}) => ({
  title: 'VPN drops every hour',
  description: 'Since Monday the VPN disconnects every hour.',
  requester: { email: 'bob@example.test', name: 'Bob' },
  hints: { priority: 'high', department: 'IT Support' },
  attachments: [{ blobId: 'a'.repeat(64), filename: 'log.txt', size: 12 }],
  ...over,
});

const post = (body: unknown, headers: Record<string, string> = {}, url = '/api/tickets') =>
  app.inject({
    method: 'POST',
    url,
    headers: { ...intake.headers, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });

/**
 * The fields of a tapped record, without validating it: other test files write invalid
 * records to the same topic on purpose (dead-letter tests), and they must not stop the
 * search for ours. Ours is validated with decodeEvent once found.
 */
function peek(r: { value: Buffer | null }): { ticketId?: string; payload?: { apiKeyId?: string } } {
  try {
    return (JSON.parse(r.value?.toString() ?? '') as { ticketId?: string } | null) ?? {};
  } catch {
    return {};
  }
}

describe('POST /api/tickets', () => {
  it('answers 202 with the final ticket id after the record is on tickets.raw', async () => {
    const res = await post(ticket());
    expect(res.statusCode).toBe(202);
    const body = json(res.body);
    expect(body).toMatchObject({ number: null, status: 'accepted' });
    const id = body.id as string;
    expect(body.statusUrl).toBe(`/api/tickets/${id}`);
    expect(res.headers.location).toBe(`/api/tickets/${id}`);

    const record = await waitFor(() => tap.records.find((r) => peek(r).ticketId === id), {
      what: 'the raw record',
    });
    const event = decodeEvent(record.value); // validates the envelope
    expect(event.type).toBe('raw.api_submission');
    expect(record.headers?.['event-type']?.toString()).toBe('raw.api_submission');
    const payload = event.payload as { submissionId: string; apiKeyId: string; title: string };
    expect(record.key?.toString()).toBe(payload.submissionId);
    expect(id).toBe(deterministicId('ticket', `api:${payload.submissionId}`));
    expect(payload.apiKeyId).toBe(intake.id);
    expect(payload.title).toBe('VPN drops every hour');
    expect(event.payload).toMatchObject({
      attachments: [{ contentType: 'application/octet-stream', filename: 'log.txt' }],
    });
  });

  it("continues the caller's W3C trace on the record", async () => {
    const traceId = 'ab'.repeat(16);
    const res = await post(ticket(), { traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` });
    const id = json(res.body).id as string;
    const record = await waitFor(() => tap.records.find((r) => peek(r).ticketId === id), {
      what: 'the raw record',
    });
    expect(record.headers?.traceparent?.toString()).toMatch(new RegExp(`^00-${traceId}-`));
  });

  it('stores SQL and HTML as data, byte for byte', async () => {
    const title = `'); DROP TABLE tickets; -- <script>alert(1)</script>`;
    const res = await post(ticket({ title, description: '<img src=x onerror=alert(1)> ü 😀' }));
    expect(res.statusCode).toBe(202);
    const id = json(res.body).id as string;
    const record = await waitFor(() => tap.records.find((r) => peek(r).ticketId === id), {
      what: 'the raw record',
    });
    expect(decodeEvent(record.value).payload).toMatchObject({
      title,
      description: '<img src=x onerror=alert(1)> ü 😀',
    });
  });

  it('Idempotency-Key: a retry gets the same ticket, another body is refused with 422', async () => {
    const key = { 'idempotency-key': `idem-${Date.now()}-${Math.random()}` };
    const first = await post(ticket(), key);
    // Same document, keys in another order: the same request.
    const t = ticket();
    const reordered = Object.fromEntries(
      Object.entries({ ...t, requester: { name: 'Bob', email: 'bob@example.test' } }).reverse(),
    );
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(t));
    const second = await post(reordered, key);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(json(second.body).id).toBe(json(first.body).id);

    const other = await post(ticket({ title: 'Something else' }), key);
    expect(other.statusCode).toBe(422);
    expect(json(other.body).error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });

    // Another API key may use the same Idempotency-Key for its own ticket.
    const agent = await makeKey(h.pool, 'agent');
    const third = await post(ticket(), { ...key, ...agent.headers });
    expect(third.statusCode).toBe(202);
    expect(json(third.body).id).not.toBe(json(first.body).id);
  });

  it('refuses invalid submissions with field-level reasons', async () => {
    const res = await post({
      title: '',
      requester: { email: 'not-an-email' },
      hints: { priority: 'urgent' },
      color: 'red',
    });
    expect(res.statusCode).toBe(400);
    const error = json(res.body).error as { code: string; details: { field: string }[] };
    expect(error.code).toBe('VALIDATION_FAILED');
    const fields = error.details.map((d) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'body/title',
        'body/description',
        'body/requester/email',
        'body/hints/priority',
        'body/color',
      ]),
    );
  });

  it('does not coerce types: a number is not a title', async () => {
    const res = await post(ticket({ title: 42 }));
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('body/title');
  });

  it('refuses NUL characters, naming the field', async () => {
    const res = await post(ticket({ title: 'a\u0000b' }));
    expect(res.statusCode).toBe(400);
    expect(json(res.body).error).toMatchObject({
      code: 'NUL_CHARACTER',
      details: [{ field: 'body/title' }],
    });
  });

  it('refuses invalid JSON and invalid UTF-8', async () => {
    const bad = await post('{"title": "x",');
    expect(bad.statusCode).toBe(400);
    expect(json(bad.body).error).toMatchObject({ code: 'INVALID_JSON' });

    const latin1 = Buffer.concat([
      Buffer.from('{"title":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('","description":"x","requester":{"email":"a@b.test"}}'),
    ]);
    const res = await post(latin1);
    expect(res.statusCode).toBe(400);
    expect(json(res.body).error).toMatchObject({ code: 'INVALID_UTF8' });

    const proto = await post('{"__proto__":{"x":1},"title":"t"}');
    expect(proto.statusCode).toBe(400);
  });

  it('1 MB title: 413 above the body limit, 400 below it', async () => {
    const huge = await post(ticket({ title: 'x'.repeat(1_100_000) }));
    expect(huge.statusCode).toBe(413);
    expect(json(huge.body).error).toMatchObject({ code: 'BODY_TOO_LARGE' });

    const big = await post(ticket({ title: 'x'.repeat(600_000) }));
    expect(big.statusCode).toBe(400);
    expect(res400Field(big.body)).toContain('body/title');
  });

  it('refuses other media types with 415', async () => {
    const res = await post('title=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode).toBe(415);
    expect(json(res.body).error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('?wait=routed answers 200 with the ticket once it is routed', async () => {
    // Over a real socket: a request stream counts as destroyed once its body is read,
    // which inject() does not show.
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const seen = tap.records.length;
    const pending = fetch(`http://127.0.0.1:${port}/api/tickets?wait=routed`, {
      method: 'POST',
      headers: { ...intake.headers, 'content-type': 'application/json' },
      body: JSON.stringify(ticket()),
    });
    // Play ticket-store and the router: store the ticket, then route it.
    const record = await waitFor(
      () => tap.records.slice(seen).find((r) => peek(r).payload?.apiKeyId === intake.id),
      { what: 'the raw record' },
    );
    const id = decodeEvent(record.value).ticketId!;
    await insertTicket(h.pool, {
      id,
      department: 'IT Support',
      routed_at: new Date().toISOString(),
    });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=10');
    // (a real ticket-store of a parallel test file may have stored it first, with its message)
    expect(await res.json()).toMatchObject({ id, department: 'IT Support' });
  });

  it('Prefer: wait=1 gives up after a second and answers 202', async () => {
    const started = Date.now();
    const res = await post(ticket(), { prefer: 'wait=1' });
    expect(res.statusCode).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

function res400Field(body: string): string {
  return JSON.stringify((json(body).error as { details: unknown }).details);
}

describe('requestedWait', () => {
  it('caps Prefer: wait=N and maps ?wait=routed to the cap', () => {
    expect(requestedWait({}, undefined, 30)).toBe(0);
    expect(requestedWait({ wait: 'routed' }, undefined, 30)).toBe(30);
    expect(requestedWait({}, 'respond-async, wait=5', 30)).toBe(5);
    expect(requestedWait({}, 'wait=500', 30)).toBe(30);
  });
});
