import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY } from '@mailroom/categorizer';
import { createPool } from '@mailroom/db';
import { decodeEvent, encodeEvent, makeEvent, type Envelope } from '@mailroom/events';
import {
  classifyError,
  createKafka,
  createProducer,
  parseBrokers,
  type ConsumedRecord,
  type MailroomProducer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique } from '../../../test/support/env.js';
import { createRouterBatchHandler } from './handle-batch.js';
import { loadRoutingRules } from './rules.js';
import { createRouterMetrics } from './router-metrics.js';
import { handleRouterRecord } from './start.js';

// The batch path against real Postgres and Kafka: a chunk of records of one partition,
// as the consumer loop hands it over, with what it emitted captured on the way to Kafka.
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'router-batch-test',
  logger: testLogger(),
});
const topic = 'tickets.events.dlq'; // exists on every stack; nothing consumes it as events
let producer: MailroomProducer;
const emitted: Envelope[] = [];
let handle: (records: ConsumedRecord[]) => Promise<void>;

beforeAll(async () => {
  const real = await createProducer(kafka);
  producer = {
    ...real,
    send: async (t, messages) => {
      await real.send(t, messages);
      for (const m of messages) emitted.push(decodeEvent(m.value as Buffer));
    },
  };
  const ctx = {
    rules: await loadRoutingRules('', DEFAULT_TAXONOMY, 'General'),
    taxonomy: DEFAULT_TAXONOMY,
    triageDepartment: 'General',
  };
  const metrics = createRouterMetrics(new Registry());
  handle = createRouterBatchHandler({
    pool,
    ctx,
    metrics,
    producer,
    eventsTopic: topic,
    handleOne: (e) => handleRouterRecord(pool, ctx, metrics, e),
  });
});

afterAll(async () => {
  await producer.disconnect();
  await pool.end();
});

let offset = 0;
const record = (e: Envelope): ConsumedRecord => {
  const m = encodeEvent(e, e.ticketId ?? e.id);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
  return {
    topic: 'tickets.events',
    partition: 0,
    offset: String(offset++),
    key: e.ticketId,
    value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(String(m.value)),
    headers,
    timestamp: String(Date.now()),
  };
};

function created(ticketId: string, department?: string) {
  const now = new Date().toISOString();
  return makeEvent('ticket.created', {
    ticketId,
    source: 'test',
    payload: {
      number: 500_000 + Math.floor(Math.random() * 100_000),
      title: department ? `about ${department}` : 'The VPN drops',
      description: 'Please help.',
      requester: { email: `${unique('req')}@example.test`, name: 'Req' },
      channel: 'api',
      status: 'pending',
      attachments: [],
      createdAt: now,
      receivedAt: now,
    },
  });
}

const categorized = (ticketId: string, department: string, confidence = 0.95) =>
  makeEvent('ticket.categorized', {
    ticketId,
    source: 'test',
    payload: {
      department,
      category: 'technical',
      priority: 'high',
      confidence,
      method: 'local',
      model: 'test',
      latencyMs: 1,
      needsReview: false,
    },
  });

const history = async (ticketId: string) =>
  (
    await pool.query<{ department: string; event_id: string }>(
      'SELECT department, event_id FROM routing_history WHERE ticket_id = $1',
      [ticketId],
    )
  ).rows;

describe('router batch path', () => {
  it('remembers and routes a chunk in one go: one decision per ticket, in record order', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // b's ticket.created came in an earlier chunk.
    await handle([record(created(b))]);
    emitted.length = 0;
    const chunk = [
      record(created(a)),
      record(categorized(a, 'IT Support')),
      // A second categorization of a in the same chunk must not route it again.
      record(categorized(a, 'Finance')),
      record(categorized(b, 'HR')),
      // Not for the router: skipped unparsed (an invalid body proves it is not parsed).
      { ...record(created(c)), headers: { 'event-type': 'ticket.status_changed' }, value: null },
    ];
    await handle(chunk);
    const routed = emitted.filter((e) => e.type === 'ticket.routed');
    expect(
      routed.map((e) => [e.ticketId, (e as Envelope<'ticket.routed'>).payload.department]),
    ).toEqual([
      [a, 'IT Support'],
      [b, 'HR'],
    ]);
    expect(await history(a)).toHaveLength(1);
    expect(await history(b)).toHaveLength(1);
    const { rows } = await pool.query<{ department: string; routed_at: Date | null }>(
      'SELECT department, routed_at FROM router_tickets WHERE ticket_id = ANY($1::uuid[]) ORDER BY department',
      [[a, b]],
    );
    expect(rows.map((r) => r.department)).toEqual(['HR', 'IT Support']);
    expect(rows.every((r) => r.routed_at)).toBe(true);

    // Redelivery of the whole chunk: the same events again (same ids), no new decision.
    emitted.length = 0;
    await handle(chunk);
    expect(emitted.filter((e) => e.type === 'ticket.routed').map((e) => e.id)).toEqual(
      routed.map((e) => e.id),
    );
    expect(await history(a)).toHaveLength(1);
    expect(await history(b)).toHaveLength(1);
  });

  it('gives the same decision as the one-by-one path', async () => {
    const ids = [randomUUID(), randomUUID()];
    const events = ids.flatMap((id, i) => [
      created(id),
      categorized(id, i === 0 ? 'Facilities' : 'Finance', i === 0 ? 0.95 : 0.2),
    ]);
    emitted.length = 0;
    await handle(events.map(record));
    const batch = emitted.filter((e) => e.type === 'ticket.routed');
    // The same tickets anew, one record at a time.
    const ids2 = [randomUUID(), randomUUID()];
    const single: Envelope[] = [];
    for (const [i, id] of ids2.entries()) {
      for (const e of [
        created(id),
        categorized(id, i === 0 ? 'Facilities' : 'Finance', i === 0 ? 0.95 : 0.2),
      ]) {
        emitted.length = 0;
        await handle([record(e)]);
        single.push(...emitted);
      }
    }
    const shape = (e: Envelope) => {
      const p = (e as Envelope<'ticket.routed'>).payload;
      return [p.department, p.priority, p.rule, p.decidedBy];
    };
    expect(batch.map(shape)).toEqual(single.map(shape));
    // The uncertain Finance ticket went to triage on both paths.
    expect(batch.map(shape)[1]![0]).toBe('General');
  });

  it('fails a chunk with an unknown ticket as permanent, so the loop isolates that record', async () => {
    const known = randomUUID();
    const err = await handle([
      record(created(known)),
      record(categorized(known, 'HR')),
      record(categorized(randomUUID(), 'HR')),
    ]).catch((e: unknown) => e);
    expect(classifyError(err)).toBe('permanent');
    // Nothing of the chunk was committed: the one-by-one pass decides the known ticket.
    expect(await history(known)).toHaveLength(0);
  });
});
