import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY, type Taxonomy } from '@mailroom/categorizer';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import {
  decodeEvent,
  encodeEvent,
  makeEvent,
  type Envelope,
  type PayloadOf,
} from '@mailroom/events';
import {
  createKafka,
  createProducer,
  parseBrokers,
  runConsumer,
  type MailroomProducer,
  type RunningConsumer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { RouterConfig } from './config.js';
import { start } from './start.js';

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'router-test',
  logger,
});
const events: Envelope[] = [];
let producer: MailroomProducer;
let watcher: RunningConsumer;
let app: Awaited<ReturnType<typeof start>>;
// Own topics: routers of parallel test runs (other rules) must not decide our tickets.
const topics = { events: unique('test.router.events'), commands: unique('test.router.commands') };

// Finance needs 0.8 to be routed straight; Legal exists but is inactive.
const taxonomy: Taxonomy = {
  ...DEFAULT_TAXONOMY,
  departments: [
    ...DEFAULT_TAXONOMY.departments.map((d) =>
      d.name === 'Finance' ? { ...d, confidenceThreshold: 0.8 } : d,
    ),
    { name: 'Legal', description: 'Contracts and legal questions.', active: false },
  ],
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'router-test-'));
  writeFileSync(join(dir, 'taxonomy.json'), JSON.stringify(taxonomy));
  const config = loadConfig(RouterConfig, {
    ...process.env,
    ROUTER_GROUP_ID: unique('router'),
    ROUTER_FROM_BEGINNING: 'false',
    METRICS_PORT: '0',
    TAXONOMY_FILE: join(dir, 'taxonomy.json'),
    ROUTING_RULES_FILE: fileURLToPath(new URL('../rules/example.json', import.meta.url)),
    TRIAGE_DEPARTMENT: 'General',
  });
  app = await start(config, { logger, topics });
  producer = await createProducer(kafka);
  watcher = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('router-watch'),
    topics: [topics.events],
    fromBeginning: true,
    handler: async (r) => void events.push(decodeEvent(r.value)),
  });
  await Promise.all([app.joined, watcher.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await watcher.stop();
  await app.stop();
  await producer.disconnect();
  await pool.end();
});

const send = (topic: string, e: Envelope) =>
  producer.send(topic, [encodeEvent(e, e.ticketId ?? e.id)]);

interface TicketSpec {
  email?: string;
  title?: string;
  description?: string;
  categorized: Partial<PayloadOf<'ticket.categorized'>> & { department: string };
}

/** A ticket.created followed by its ticket.categorized, as the pipeline emits them. */
async function ticket(spec: TicketSpec) {
  const ticketId = randomUUID();
  const now = new Date().toISOString();
  const created = makeEvent('ticket.created', {
    ticketId,
    source: 'test',
    payload: {
      number: 100_000 + Math.floor(Math.random() * 900_000),
      title: spec.title ?? 'Something is wrong',
      description: spec.description ?? 'Please help.',
      requester: { email: spec.email ?? `${unique('req')}@example.test`, name: 'Req' },
      channel: 'email',
      status: 'pending',
      attachments: [],
      messageId: `<${randomUUID()}@client.example>`,
      createdAt: now,
      receivedAt: now,
    },
  });
  const categorized = makeEvent('ticket.categorized', {
    ticketId,
    source: 'test',
    payload: {
      category: 'general',
      priority: 'medium',
      confidence: 0.9,
      method: 'local',
      model: 'test',
      latencyMs: 1,
      needsReview: false,
      ...spec.categorized,
    },
  });
  await send(topics.events, created);
  await send(topics.events, categorized);
  return { ticketId, created, categorized };
}

const routedOf = (ticketId: string) =>
  waitFor(
    () =>
      events.find((e) => e.ticketId === ticketId && e.type === 'ticket.routed') as
        Envelope<'ticket.routed'> | undefined,
    { what: `ticket.routed of ${ticketId}`, timeoutMs: 30_000 },
  );

describe('router', () => {
  it('applies each rule in order and stores every decision in routing_history', async () => {
    const cases = await Promise.all([
      ticket({
        email: 'payments@payroll.example',
        categorized: { department: 'IT Support' },
      }).then((t) => ({ t, department: 'Finance', rule: 'sender:payroll-provider' })),
      ticket({
        email: 'ceo@example.test',
        categorized: { department: 'HR', priority: 'low' },
      }).then((t) => ({ t, department: 'HR', rule: 'categorizer+vip:executives' })),
      ticket({
        title: 'Is this PHISHING?',
        categorized: { department: 'Finance', confidence: 0.99 },
      }).then((t) => ({ t, department: 'IT Support', rule: 'keyword:phishing' })),
      ticket({ categorized: { department: 'Facilities', confidence: 0.7 } }).then((t) => ({
        t,
        department: 'Facilities',
        rule: 'categorizer',
      })),
      ticket({ categorized: { department: 'Finance', confidence: 0.7 } }).then((t) => ({
        t,
        department: 'General',
        rule: 'triage:low_confidence',
      })),
      ticket({ categorized: { department: 'Legal', confidence: 0.99 } }).then((t) => ({
        t,
        department: 'General',
        rule: 'triage:inactive_department(Legal)',
      })),
    ]);
    for (const { t, department, rule } of cases) {
      const routed = await routedOf(t.ticketId);
      expect(routed.payload).toMatchObject({ department, rule });
      expect(routed.payload.requester.email).toBe(t.created.payload.requester.email);
      expect(routed.payload.number).toBe(t.created.payload.number);
      expect(routed.payload.messageId).toBe(t.created.payload.messageId);
      const { rows } = await pool.query(
        'SELECT department, rule, kind, decided_by, confidence FROM routing_history WHERE ticket_id = $1',
        [t.ticketId],
      );
      expect(rows).toEqual([
        expect.objectContaining({
          department,
          rule,
          kind: 'routed',
          decided_by: routed.payload.decidedBy,
        }),
      ]);
    }
    const vip = await routedOf(cases[1].t.ticketId);
    expect(vip.payload.priority).toBe('high');
    const triage = await routedOf(cases[4].t.ticketId);
    expect(triage.payload).toMatchObject({ confidence: 0.7, decidedBy: 'router:triage' });
  });

  it('a redelivered categorization re-emits the same ticket.routed and adds no history', async () => {
    const t = await ticket({ categorized: { department: 'HR' } });
    const first = await routedOf(t.ticketId);
    await send(topics.events, t.categorized);
    await waitFor(
      () =>
        events.filter((e) => e.ticketId === t.ticketId && e.type === 'ticket.routed').length >= 2,
      { what: 'second emission', timeoutMs: 30_000 },
    );
    const all = events.filter((e) => e.ticketId === t.ticketId && e.type === 'ticket.routed');
    expect(new Set(all.map((e) => e.id))).toEqual(new Set([first.id]));
    const { rows } = await pool.query(
      'SELECT count(*)::int AS n FROM routing_history WHERE ticket_id = $1',
      [t.ticketId],
    );
    expect(rows[0].n).toBe(1);
  });

  it('a reroute command emits ticket.rerouted and stores the previous department, once', async () => {
    const t = await ticket({ categorized: { department: 'IT Support', confidence: 0.95 } });
    await routedOf(t.ticketId);
    const commandId = randomUUID();
    const command = makeEvent('command.route_ticket', {
      id: commandId,
      ticketId: t.ticketId,
      source: 'test',
      payload: {
        commandId,
        department: 'Finance',
        actor: { type: 'agent', id: 'agent@example.test' },
        reason: 'it is about an invoice',
      },
    });
    await send(topics.commands, command);
    await send(topics.commands, command);
    const rerouted = await waitFor(
      () => {
        const r = events.filter((e) => e.ticketId === t.ticketId && e.type === 'ticket.rerouted');
        return r.length >= 2 && (r as Envelope<'ticket.rerouted'>[]);
      },
      { what: 'two ticket.rerouted emissions', timeoutMs: 30_000 },
    );
    expect(rerouted[0]!.id).toBe(rerouted[1]!.id);
    expect(rerouted[0]!.payload).toMatchObject({
      from: 'IT Support',
      to: 'Finance',
      commandId,
      reason: 'it is about an invoice',
    });
    const { rows } = await pool.query(
      `SELECT kind, department, previous_department, rule, decided_by, reason FROM routing_history
       WHERE ticket_id = $1 ORDER BY at`,
      [t.ticketId],
    );
    expect(rows).toEqual([
      expect.objectContaining({ kind: 'routed', department: 'IT Support' }),
      {
        kind: 'rerouted',
        department: 'Finance',
        previous_department: 'IT Support',
        rule: 'manual',
        decided_by: 'agent:agent@example.test',
        reason: 'it is about an invoice',
      },
    ]);
    const cmd = await pool.query(
      'SELECT outcome, kind FROM ticket_commands WHERE command_id = $1',
      [commandId],
    );
    expect(cmd.rows).toEqual([{ outcome: 'applied', kind: 'route_ticket' }]);
  });

  it('rejects a route to an unknown or inactive department with the reason', async () => {
    const t = await ticket({ categorized: { department: 'HR' } });
    await routedOf(t.ticketId);
    const ids = [randomUUID(), randomUUID()];
    for (const [i, department] of ['Nowhere', 'Legal'].entries()) {
      await send(
        topics.commands,
        makeEvent('command.route_ticket', {
          ticketId: t.ticketId,
          source: 'test',
          payload: {
            commandId: ids[i]!,
            department,
            actor: { type: 'agent', id: 'a' },
            reason: 'test',
          },
        }),
      );
    }
    const rejected = await waitFor(
      () => {
        const r = events.filter(
          (e) => e.ticketId === t.ticketId && e.type === 'ticket.command_rejected',
        ) as Envelope<'ticket.command_rejected'>[];
        return r.length >= 2 && r;
      },
      { what: 'two rejections', timeoutMs: 30_000 },
    );
    expect(rejected.map((r) => r.payload.code).sort()).toEqual([
      'DEPARTMENT_INACTIVE',
      'UNKNOWN_DEPARTMENT',
    ]);
  });
});
