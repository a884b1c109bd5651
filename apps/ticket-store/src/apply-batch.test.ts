// The set-based paths of a chunk (applySubmissions, applyLifecycleBatch) against the
// record-by-record ones, on the real database.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, withTransaction } from '@mailroom/db';
import {
  makeEvent,
  type ApiSubmission,
  type Envelope,
  type EventType,
  type PayloadOf,
} from '@mailroom/events';
import { stackEnv, unique } from '../../../test/support/env.js';
import { applyLifecycle, applyLifecycleBatch } from './apply-lifecycle.js';
import { applySubmissions, handleSubmission, ticketIdOfSubmission } from './handle-submission.js';

const pool = createPool({ url: stackEnv('DATABASE_URL'), max: 4 });
afterAll(() => pool.end());

const submission = (over: Partial<ApiSubmission> = {}): ApiSubmission => ({
  submissionId: randomUUID(),
  title: 'Printer jams',
  description: 'Every second page.',
  requester: { email: `${unique('Req')}@Example.test`, name: 'Ada' },
  receivedAt: new Date().toISOString(),
  ...over,
});

describe('applySubmissions', () => {
  it('creates each ticket once, numbers in record order, one ticket.created per record', async () => {
    const stored = submission();
    await handleSubmission(pool, stored);
    const a = submission({ hints: { priority: 'high' } });
    const b = submission({ attachments: [] });
    const c = submission();
    const chunk = [a, stored, b, a, c, b];
    const facts = await withTransaction(pool, (db) => applySubmissions(db, chunk));
    expect(facts.map((f) => f.ticketId)).toEqual(
      chunk.map((s) => ticketIdOfSubmission(s.submissionId)),
    );
    // A redelivered submission re-emits the same event (same id and payload).
    const same = (e: Envelope) => ({ id: e.id, ticketId: e.ticketId, payload: e.payload });
    expect(same(facts[3]!)).toEqual(same(facts[0]!));
    expect(same(facts[5]!)).toEqual(same(facts[2]!));
    const again = await withTransaction(pool, (db) => applySubmissions(db, [c, stored]));
    expect(again.map(same)).toEqual([facts[4]!, facts[1]!].map(same));

    const ids = [stored, a, b, c].map((s) => ticketIdOfSubmission(s.submissionId));
    const { rows } = await pool.query<{
      id: string;
      number: number;
      priority: string | null;
      requester_email: string;
      messages: number;
    }>(
      `select id, number::int as number, priority, requester_email,
         (select count(*)::int from ticket_messages m where m.ticket_id = t.id) as messages
       from tickets t where id = any($1) order by number`,
      [ids],
    );
    expect(rows.map((r) => r.id)).toEqual(ids); // the stored one first, then a, b, c
    expect(rows.map((r) => r.messages)).toEqual([1, 1, 1, 1]);
    expect(rows[1]).toMatchObject({
      priority: 'high',
      requester_email: a.requester.email.toLowerCase(),
    });
    const numberOf = new Map(rows.map((r) => [r.id, r.number]));
    expect(facts.map((f) => (f.payload as PayloadOf<'ticket.created'>).number)).toEqual(
      facts.map((f) => numberOf.get(f.ticketId!)),
    );
  });
});

// ---- lifecycle ------------------------------------------------------------------------

const base = Date.parse('2030-01-01T00:00:00Z');
const at = (s: number) => new Date(base + s * 1000).toISOString();
type Step = (ticketId: string, tag: string) => Envelope;
const ev =
  <T extends EventType>(type: T, seconds: number, payload: (tag: string) => PayloadOf<T>): Step =>
  (ticketId, tag) =>
    makeEvent(type, {
      ticketId,
      source: 'test',
      occurredAt: at(seconds),
      payload: payload(tag),
    });

const requester = { email: 'ada@example.test' };
const categorized = (s: number, category: string, priority: 'low' | 'high', needsReview = false) =>
  ev('ticket.categorized', s, () => ({
    department: 'IT Support',
    category,
    priority,
    confidence: 0.8,
    method: 'local',
    model: 'test',
    latencyMs: 3,
    needsReview,
  }));
const routed = (s: number, department: string, priority: 'medium' | 'critical') =>
  ev('ticket.routed', s, () => ({
    department,
    priority,
    rule: 'test',
    decidedBy: 'router',
    requester,
    number: 1,
    title: 't',
  }));
const rerouted = (s: number, to: string) =>
  ev('ticket.rerouted', s, () => ({
    from: null,
    to,
    reason: 'test',
    actor: { type: 'agent', id: 'agent@example.test' },
    commandId: randomUUID(),
  }));
const acknowledged = (s: number, message: string) =>
  ev('ticket.acknowledged', s, (tag) => ({
    template: 'acknowledgement',
    to: requester.email,
    messageId: `<${message}-${tag}@test>`,
    sentAt: at(s),
  }));

/** Per ticket, its events in order; several of one ticket land in one chunk. */
const SCENARIOS: { hints?: ApiSubmission['hints']; steps: Step[] }[] = [
  { steps: [categorized(2, 'printer', 'low'), routed(3, 'IT', 'medium'), acknowledged(4, 'a')] },
  { steps: [routed(3, 'IT', 'critical'), categorized(2, 'printer', 'low'), rerouted(9, 'HR')] },
  { steps: [rerouted(9, 'HR'), routed(3, 'IT', 'medium'), categorized(5, 'x', 'high')] },
  {
    steps: [
      categorized(2, 'first', 'low', true),
      categorized(3, 'second', 'high'),
      categorized(2, 'first', 'low', true), // a redelivery after a newer one
    ],
  },
  { steps: [acknowledged(9, 'b1'), acknowledged(9, 'b1'), acknowledged(5, 'b2')] },
  {
    steps: [
      routed(3, 'IT', 'medium'),
      routed(4, 'Finance', 'critical'),
      rerouted(8, 'HR'),
      rerouted(7, 'Facilities'),
      routed(20, 'General', 'critical'),
    ],
  },
  {
    hints: { priority: 'critical' },
    steps: [categorized(2, 'printer', 'low'), categorized(1, 'again', 'high')],
  },
  {
    hints: { priority: 'low' },
    steps: [routed(30, 'IT', 'medium'), categorized(2, 'late', 'high')],
  },
  // Two tickets acknowledged with the same Message-ID: the first keeps it.
  { steps: [acknowledged(6, 'shared')] },
  { steps: [acknowledged(7, 'shared'), categorized(1, 'printer', 'high')] },
];

/** Fresh tickets for every scenario, and their events interleaved as on a partition. */
async function setUp(): Promise<{ ids: string[]; tag: string; events: Envelope[] }> {
  const tag = unique('set');
  const subs = SCENARIOS.map((s) => submission(s.hints ? { hints: s.hints } : {}));
  await withTransaction(pool, (db) => applySubmissions(db, subs));
  const ids = subs.map((s) => ticketIdOfSubmission(s.submissionId));
  const queues = SCENARIOS.map((s, i) => s.steps.map((step) => step(ids[i]!, tag)));
  const events: Envelope[] = [];
  while (queues.some((q) => q.length))
    for (const q of queues) {
      const e = q.shift();
      if (e) events.push(e);
    }
  // An acknowledgement of a ticket this store does not hold changes nothing, fails nothing.
  events.splice(3, 0, acknowledged(5, 'unknown')(randomUUID(), tag));
  return { ids, tag, events };
}

async function state(ids: string[], tag: string) {
  const { rows } = await pool.query(
    `select category, priority, categorization, needs_review, categorized_at, department,
       routed_at, acknowledged_at,
       -- the events' times are in 2030: an earlier one is the creation time of the copy
       case when updated_at > $3::timestamptz then updated_at end as updated_at,
       array(select replace(message_id, $2, '') from ticket_thread_index x
             where x.ticket_id = t.id order by 1) as thread
     from tickets t join unnest($1::uuid[]) with ordinality as u(id, ord) on u.id = t.id
     order by u.ord`,
    [ids, tag, at(0)],
  );
  return rows;
}

describe('applyLifecycleBatch', () => {
  it.each([1, 2, 5, 1000])(
    'in chunks of %i leaves the rows applyLifecycle leaves event by event',
    async (size) => {
      const one = await setUp();
      for (const e of one.events) await applyLifecycle(pool, e);
      const batch = await setUp();
      for (let i = 0; i < batch.events.length; i += size)
        await withTransaction(pool, (db) =>
          applyLifecycleBatch(db, batch.events.slice(i, i + size)),
        );
      const expected = await state(one.ids, one.tag);
      expect(await state(batch.ids, batch.tag)).toEqual(expected);
      // The scenarios do what they say (the comparison is not between two no-ops).
      expect(expected[1]).toMatchObject({ department: 'HR', priority: 'critical' });
      expect(expected[2]).toMatchObject({ department: 'HR', routed_at: new Date(at(9)) });
      expect(expected[3]).toMatchObject({ category: 'first', needs_review: true });
      expect(expected[4]).toMatchObject({ acknowledged_at: new Date(at(9)) });
      expect(expected[5]).toMatchObject({ department: 'Facilities', priority: 'medium' });
      expect(expected[8]!.thread).toEqual(['<shared-@test>']);
      expect(expected[9]!.thread).toEqual([]);
    },
  );

  it('keeps the first acknowledgement per Message-ID whatever join the planner picks', async () => {
    // A small or fresh tickets table gets a hash join, which yields the rows in the
    // table's order rather than the events' (fresh-clone CI met it).
    const batch = await setUp();
    await withTransaction(pool, async (db) => {
      await db.query('set local enable_nestloop = off');
      await db.query('set local enable_mergejoin = off');
      // The first ticket's row rewritten: a sequential scan now meets it after the second.
      await db.query('update tickets set updated_at = updated_at where id = $1', [batch.ids[8]]);
      await applyLifecycleBatch(db, batch.events);
    });
    const rows = await state(batch.ids, batch.tag);
    expect(rows[8]!.thread).toEqual(['<shared-@test>']);
    expect(rows[9]!.thread).toEqual([]);
  });
});
