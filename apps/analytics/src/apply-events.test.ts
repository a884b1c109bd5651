import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@mailroom/db';
import { deterministicId, makeEvent, type Envelope } from '@mailroom/events';
import { stackEnv } from '../../../test/support/env.js';
import { lifecycle } from '../test/lifecycle.js';
import { freshSchema, type RollupSchema } from '../test/schema-fixture.js';
import { applyEvent, type ApplyOutcome } from './apply-event.js';
import { applyEvents } from './apply-events.js';
import { DEFAULT_PRICES } from './pricing.js';

const admin = createPool({ url: stackEnv('DATABASE_URL'), max: 2 });
const schemas: RollupSchema[] = [];
const now = Date.now();
const ago = (h: number) => new Date(now - h * 3_600_000);

async function schema() {
  const s = await freshSchema(admin);
  schemas.push(s);
  return s;
}

const updated = (ticketId: string) =>
  makeEvent('ticket.updated', {
    id: deterministicId('test', ticketId, 'updated'),
    ticketId,
    source: 'analytics-test',
    payload: {
      changes: { priority: 'critical', category: 'outage' },
      actor: { type: 'agent', id: 'agent@example.test' },
      commandId: randomUUID(),
    },
  }) as Envelope;

const t5 = randomUUID();
const perTicket: Envelope[][] = [
  lifecycle({
    createdAt: ago(5),
    department: 'billing',
    category: 'invoice',
    priority: 'high',
    ackAfterSeconds: 30,
    firstResponseAfterSeconds: 600,
    resolveAfterSeconds: 7000,
  }),
  lifecycle({
    createdAt: ago(3),
    department: 'billing',
    category: 'login',
    rerouteTo: 'it-support',
    firstResponseAfterSeconds: 1200,
  }),
  lifecycle({
    createdAt: ago(30),
    channel: 'api',
    department: 'it-support',
    category: 'vpn',
    method: 'local',
    confidence: 0.42,
  }),
  lifecycle({ createdAt: ago(2), department: 'sales', category: 'quote', resolveAfterSeconds: 90 }),
  [
    ...lifecycle({ ticketId: t5, createdAt: ago(1), department: 'hr', category: 'leave' }),
    updated(t5),
  ],
];

/**
 * The tickets interleaved as on a partition (each ticket's events in order), delivered
 * at least once: some events twice in a row, some again much later, and a stretch of
 * the log a second time (a consumer that restarted before its commit).
 */
function deliveries(): Envelope[] {
  const queues = perTicket.map((t) => [...t]);
  const log: Envelope[] = [];
  while (queues.some((q) => q.length))
    for (const q of queues) {
      const e = q.shift();
      if (e) log.push(e);
    }
  const out: Envelope[] = [];
  log.forEach((e, i) => {
    out.push(e);
    if (i % 7 === 3) out.push(e); // the same event twice in a row
    if (i % 11 === 5) out.push(log[Math.max(0, i - 9)]!); // an older one again
  });
  return [...out, ...out.slice(4, 19), log[0]!];
}

const stream = deliveries();
let oneByOne: RollupSchema;
let oneByOneOutcomes: ApplyOutcome[];

beforeAll(async () => {
  oneByOne = await schema();
  oneByOneOutcomes = [];
  for (const e of stream) oneByOneOutcomes.push(await applyEvent(oneByOne.pool, e, DEFAULT_PRICES));
});

afterAll(async () => {
  for (const s of schemas) await s.drop();
  await admin.end();
});

async function inChunks(size: number): Promise<{ s: RollupSchema; outcomes: ApplyOutcome[] }> {
  const s = await schema();
  const outcomes: ApplyOutcome[] = [];
  for (let i = 0; i < stream.length; i += size)
    outcomes.push(...(await applyEvents(s.pool, stream.slice(i, i + size), DEFAULT_PRICES)));
  return { s, outcomes };
}

const ledger = async (s: RollupSchema) =>
  (
    await s.pool.query(
      'SELECT event_id, event_type, ticket_id FROM analytics_applied_events ORDER BY event_id',
    )
  ).rows;

describe('applyEvents (the batch path)', () => {
  it('the stream exercises duplicates and cancelling moves', async () => {
    const distinct = new Set(stream.map((e) => e.id)).size;
    expect(stream.length).toBeGreaterThan(distinct + 10);
    expect(oneByOneOutcomes.filter((o) => o === 'applied')).toHaveLength(distinct);
    // Rows another event brought back to 0: the batch path must leave them as well.
    const dump = await oneByOne.dump();
    expect(
      dump.analytics_ticket_volume!.some((r) => (r as { tickets: string }).tickets === '0'),
    ).toBe(true);
  });

  it.each([1, 3, 8, 25, 1000])(
    'in chunks of %i leaves the tables one by one leaves, with the same outcomes',
    async (size) => {
      const { s, outcomes } = await inChunks(size);
      expect(outcomes).toEqual(oneByOneOutcomes);
      expect(await s.dump()).toEqual(await oneByOne.dump());
      expect(await ledger(s)).toEqual(await ledger(oneByOne));
    },
  );

  it('mixes with the one-by-one path (the fallback after a failed chunk) on the same tables', async () => {
    const s = await schema();
    const outcomes: ApplyOutcome[] = [];
    for (let i = 0; i < stream.length; i += 6) {
      const chunk = stream.slice(i, i + 6);
      if ((i / 6) % 2 === 0) outcomes.push(...(await applyEvents(s.pool, chunk, DEFAULT_PRICES)));
      else for (const e of chunk) outcomes.push(await applyEvent(s.pool, e, DEFAULT_PRICES));
    }
    expect(outcomes).toEqual(oneByOneOutcomes);
    expect(await s.dump()).toEqual(await oneByOne.dump());
  });

  it('concurrent chunks of other tickets on the same rollup rows add up', async () => {
    const s = await schema();
    // Two partitions at once: each ticket's events stay in one of them, in order.
    const partitions = [perTicket.filter((_, i) => i % 2 === 0), perTicket.filter((_, i) => i % 2)];
    await Promise.all(
      partitions.map(async (tickets) => {
        const events = tickets.flat();
        for (let i = 0; i < events.length; i += 4)
          await applyEvents(s.pool, events.slice(i, i + 4), DEFAULT_PRICES);
      }),
    );
    expect(await s.dump()).toEqual(await oneByOne.dump());
  });
});
