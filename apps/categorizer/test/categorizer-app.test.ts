import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import {
  DLQ_TOPICS,
  TOPICS,
  decodeEvent,
  deterministicId,
  encodeEvent,
  makeEvent,
  type Envelope,
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
import { CategorizerConfig } from '../src/config.js';
import { start } from '../src/start.js';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic-server.js';

// The categorizer app against the real Kafka of the local stack and the fake Messages
// API. The scenarios run one app at a time: every instance derives the same event id
// for a ticket, so two at once could not be told apart.

const logger = testLogger('categorizer');
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'categorizer-test',
  logger,
});
let producer: MailroomProducer;
let fake: FakeAnthropic;
const categorized: Envelope<'ticket.categorized'>[] = [];
const dead: { headers: Record<string, string>; value: string }[] = [];
const watchers: RunningConsumer[] = [];

type App = Awaited<ReturnType<typeof start>>;

async function startApp(env: Record<string, string>): Promise<App> {
  // A real key in the developer's shell must not turn the local scenario into an LLM one.
  const { ANTHROPIC_API_KEY: _ignored, ...base } = process.env;
  const config = loadConfig(CategorizerConfig, {
    ...base,
    CATEGORIZER_GROUP_ID: unique('categorizer'),
    CATEGORIZER_FROM_BEGINNING: 'false',
    METRICS_PORT: '0',
    ...env,
  });
  const app = await start(config, { logger });
  await app.joined;
  await new Promise((r) => setTimeout(r, 1000)); // the new group's offsets are resolved
  return app;
}

function created(title: string, description: string): Envelope<'ticket.created'> {
  const ticketId = randomUUID();
  return makeEvent('ticket.created', {
    ticketId,
    source: 'test',
    payload: {
      number: 1 + Math.floor(Math.random() * 1e9),
      title,
      description,
      requester: { email: 'alice@example.test', name: 'Alice' },
      channel: 'api',
      status: 'pending',
      hints: { department: 'Facilities' },
      attachments: [],
      createdAt: new Date().toISOString(),
      receivedAt: new Date().toISOString(),
    },
  });
}

const send = (...events: Envelope[]) =>
  producer.send(
    TOPICS.events,
    events.map((e) => encodeEvent(e, e.ticketId!)),
  );

const resultsFor = (ticketId: string) => categorized.filter((e) => e.ticketId === ticketId);

const waitCategorized = (ids: string[], what: string, timeoutMs = 30_000) =>
  waitFor(
    () => ids.every((id) => resultsFor(id).length > 0) && ids.map((id) => resultsFor(id)[0]!),
    {
      what,
      timeoutMs,
    },
  );

async function metric(app: App, name: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${app.port}/metrics`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  producer = await createProducer(kafka);
  watchers.push(
    await runConsumer({
      kafka,
      producer,
      logger,
      registry: new Registry(),
      groupId: unique('watch-categorized'),
      topics: [TOPICS.events],
      fromBeginning: false,
      handler: async (r) => {
        if (r.headers['event-type'] !== 'ticket.categorized') return;
        categorized.push(decodeEvent(r.value) as Envelope<'ticket.categorized'>);
      },
    }),
    await runConsumer({
      kafka,
      producer,
      logger,
      registry: new Registry(),
      groupId: unique('watch-dlq'),
      topics: [DLQ_TOPICS.events],
      fromBeginning: false,
      handler: async (r) =>
        void dead.push({ headers: r.headers, value: r.value?.toString() ?? '' }),
    }),
  );
  await Promise.all(watchers.map((w) => w.joined));
}, 60_000);

afterAll(async () => {
  await Promise.all(watchers.map((w) => w.stop()));
  await producer.disconnect();
  await fake.close();
});

describe('categorizer without an API key (local model)', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({});
  }, 60_000);
  afterAll(() => app.stop());

  it('categorizes ticket.created with the local model into the configured taxonomy', async () => {
    const invoice = created(
      'Invoice charged twice',
      'My credit card was charged twice for the invoice of March. Please refund the duplicate payment.',
    );
    await send(invoice);
    const [result] = await waitCategorized([invoice.ticketId!], 'a local categorization');
    expect(result!.id).toBe(deterministicId('event', invoice.ticketId!, 'categorized'));
    expect(result!.source).toBe('categorizer');
    expect(result!.payload).toMatchObject({
      method: 'local',
      department: 'Finance',
      category: 'billing',
      needsReview: false,
      promptVersion: 'local-v1',
    });
    expect(['low', 'medium', 'high']).toContain(result!.payload.priority);
    expect(result!.payload.fallbackReason).toBeUndefined();
    expect(await metric(app, 'mailroom_categorizer_categorizations_total')).toMatch(
      /method="local"/,
    );
    expect(await metric(app, 'mailroom_categorizer_categorization_duration_seconds_count')).toMatch(
      /method="local"} [1-9]/,
    );
  });

  it('emits one event id per ticket when ticket.created is delivered twice', async () => {
    const t = created(
      'Printer on floor 3 jams',
      'The printer keeps jamming, IT please have a look.',
    );
    await send(t);
    await send(t);
    await waitFor(() => resultsFor(t.ticketId!).length >= 2, {
      what: 'two emissions for the redelivered ticket',
      timeoutMs: 30_000,
    });
    expect(new Set(resultsFor(t.ticketId!).map((e) => e.id))).toEqual(
      new Set([deterministicId('event', t.ticketId!, 'categorized')]),
    );
  });

  it('dead-letters an invalid ticket.created and keeps going', async () => {
    const bad = created('x', 'y');
    (bad.payload as { requester: unknown }).requester = { email: 'not-an-address' };
    const good = created('Salary slip missing', 'I did not receive my payslip this month.');
    await producer.send(TOPICS.events, [
      {
        key: bad.ticketId!,
        value: JSON.stringify(bad),
        headers: { 'event-type': 'ticket.created' },
      },
    ]);
    await send(good);
    await waitCategorized([good.ticketId!], 'the ticket after the bad one');
    const letter = await waitFor(() => dead.find((d) => d.value.includes(bad.ticketId!)), {
      what: 'the dead letter',
      timeoutMs: 30_000,
    });
    expect(letter.headers['x-error-message']).toMatch(/requester\/email/);
    expect(resultsFor(bad.ticketId!)).toHaveLength(0);
  });

  it('categorizes a chunk of one partition together, and isolates a bad record in it', async () => {
    // One key: the records share a partition and reach the app as one chunk.
    const key = randomUUID();
    const goods = [
      created('VPN drops', 'The VPN disconnects every ten minutes.'),
      created('Refund please', 'I was charged twice for my subscription.'),
      created('New badge', 'My office badge stopped opening the door.'),
    ];
    const bad = created('x', 'y');
    (bad.payload as { number: unknown }).number = -1;
    await producer.send(TOPICS.events, [
      ...goods.slice(0, 2).map((e) => ({ ...encodeEvent(e, key), key })),
      { key, value: JSON.stringify(bad), headers: { 'event-type': 'ticket.created' } },
      // Another group's business: skipped by its header, never parsed.
      { key, value: 'not json', headers: { 'event-type': 'ticket.routed' } },
      { ...encodeEvent(goods[2]!, key), key },
    ]);
    const results = await waitCategorized(
      goods.map((g) => g.ticketId!),
      'the good tickets of the chunk',
    );
    expect(results.map((r) => r.id)).toEqual(
      goods.map((g) => deterministicId('event', g.ticketId!, 'categorized')),
    );
    await waitFor(() => dead.find((d) => d.value.includes(bad.ticketId!)), {
      what: 'the bad record of the chunk dead-lettered alone',
      timeoutMs: 30_000,
    });
    expect(resultsFor(bad.ticketId!)).toHaveLength(0);
    expect(dead.filter((d) => goods.some((g) => d.value.includes(g.ticketId!)))).toEqual([]);
  });
});

describe('categorizer with an API key (Claude, local fallback)', () => {
  let app: App;
  beforeAll(async () => {
    app = await startApp({
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      LLM_TIMEOUT_MS: '300',
      LLM_DEADLINE_MS: '1500',
      LLM_MAX_RETRIES: '1',
    });
  }, 60_000);
  afterAll(() => app.stop());

  it('answers with the LLM when it is up', async () => {
    fake.reset();
    const t = created('VPN drops every hour', 'Since Monday my laptop loses the VPN connection.');
    await send(t);
    const [result] = await waitCategorized([t.ticketId!], 'an LLM categorization');
    expect(result!.payload).toMatchObject({ method: 'llm', department: 'IT Support' });
    expect(result!.payload.tokens!.input).toBeGreaterThan(0);
    expect(result!.payload.model).toMatch(/claude/);
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  it('falls back to the local model on 500s and timeouts, and the pipeline keeps going', async () => {
    fake.reset();
    fake.setBehaviour({ kind: 'server_error' });
    const failing = [
      created('Refund please', 'I returned the item, please refund my payment.'),
      created('Laptop broken', 'The screen of my laptop stays black.'),
    ];
    await send(...failing);
    const down = await waitCategorized(
      failing.map((e) => e.ticketId!),
      'fallback answers (500)',
    );
    for (const r of down) {
      expect(r.payload.method).toBe('local');
      expect(r.payload.fallbackReason).toMatch(/^LLM_(SERVER_ERROR|CIRCUIT_OPEN)$/);
    }
    fake.setBehaviour({ kind: 'delay', ms: 5_000 });
    const slow = created('Cannot log in', 'My password expired and I cannot log in to email.');
    await send(slow);
    const [timedOut] = await waitCategorized([slow.ticketId!], 'fallback answer (timeout)');
    expect(timedOut!.payload.method).toBe('local');
    expect(timedOut!.payload.fallbackReason).toMatch(/^LLM_(TIMEOUT|CIRCUIT_OPEN)$/);
    expect(await metric(app, 'mailroom_categorizer_fallbacks_total')).toMatch(/reason="LLM_/);
  });
});
