// REST in, ticket state out: intake-api and ticket-store as they run in `npm start`,
// against the real Kafka and Postgres. A ticket POSTed is stored once, found by the
// list filters and full-text search, and a status change made over the API lands.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';
import { testLogger, unique, waitFor } from '../support/env.js';

const key = `e2e-${unique('key')}-0123456789`;
let base = '';
let stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const logger = testLogger('e2e');
  const store = await startTicketStore(
    loadConfig(TicketStoreConfig, {
      ...process.env,
      TICKET_STORE_GROUP_ID: unique('e2e-store'),
      TICKET_STORE_FROM_BEGINNING: 'false',
      METRICS_PORT: '0',
    }),
    { logger },
  );
  const intake = await startIntake(
    loadConfig(IntakeConfigSchema, {
      ...process.env,
      PORT: '0',
      BOOTSTRAP_API_KEYS: `${unique('e2e-agent')}:agent+intake:${key}`,
    }),
    { logger },
  );
  stops = [intake.stop, store.stop];
  base = `http://127.0.0.1:${intake.port}`;
  await store.joined;
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  for (const stop of stops) await stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('intake-api → tickets.raw → ticket-store → Postgres → intake-api', () => {
  it('stores a POSTed ticket once, finds it by filters and search, and applies a status change', async () => {
    const word = unique('zebrafish').replace('-', '');
    const submission = {
      title: `Printer ${word} prints blank pages`,
      description: 'Every page comes out blank since the toner change.',
      requester: { email: `${unique('req')}@example.test`, name: 'Grace' },
      hints: { priority: 'critical' },
    };
    const idem = unique('idem');
    const first = await fetch(`${base}/api/tickets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': idem,
      },
      body: JSON.stringify(submission),
    });
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { id: string; statusUrl: string };
    const retry = await fetch(`${base}/api/tickets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'idempotency-key': idem,
      },
      body: JSON.stringify(submission),
    });
    expect(((await retry.json()) as { id: string }).id).toBe(accepted.id);

    const stored = await waitFor(
      async () => {
        const r = await api('GET', accepted.statusUrl);
        return r.status === 200 ? r.body : undefined;
      },
      { what: 'the ticket to be stored', timeoutMs: 30_000 },
    );
    expect(stored).toMatchObject({
      id: accepted.id,
      status: 'pending',
      priority: 'critical',
      title: submission.title,
    });
    expect(typeof stored.number).toBe('number');

    const found = await api('GET', `/api/tickets?search=${word}&priority=critical&status=pending`);
    expect((found.body.items as { id: string }[]).map((t) => t.id)).toEqual([accepted.id]);
    const byNumber = await api('GET', `/api/tickets/${String(stored.number)}`);
    expect(byNumber.body.id).toBe(accepted.id);

    const change = await api('PUT', `/api/tickets/${accepted.id}/status`, {
      status: 'in_progress',
      reason: 'on it',
    });
    expect(change.status).toBe(202);
    await waitFor(
      async () => (await api('GET', accepted.statusUrl)).body.status === 'in_progress',
      { what: 'the status change', timeoutMs: 30_000 },
    );
    const invalid = await api('PUT', `/api/tickets/${accepted.id}/status`, {
      status: 'in_progress',
    });
    expect(invalid.status).toBe(409);
  });
});
