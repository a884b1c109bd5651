// The pipeline end to end into Prometheus: real apps (analytics, ticket-store,
// intake-api) consume and serve real events, the stack's Prometheus scrapes them, and
// every PromQL panel of grafana/dashboards must be valid and return data.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { TOPICS, encodeEvent, makeEvent, type Envelope } from '@mailroom/events';
import { CategorizerConfig, start as startCategorizer } from '@mailroom/categorizer';
import { ImapPollerConfig, start as startImapPoller } from '@mailroom/imap-poller';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { NotifierConfig, start as startNotifier } from '@mailroom/notifier';
import { createKafka, createProducer, parseBrokers, type MailroomProducer } from '@mailroom/kafka';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { AnalyticsConfig } from '../src/config.js';
import { dashboardSummary } from '../src/dashboard-queries.js';
import { start } from '../src/start.js';
import { startFakeAnthropic } from '../../categorizer/test/fake-anthropic-server.js';
import { createMailUser } from '../../../test/support/greenmail.js';
import { lifecycle } from './lifecycle.js';
import { freshSchema, type RollupSchema } from './schema-fixture.js';

const logger = testLogger();
const prom = stackEnv('PROMETHEUS_URL');
const targetsDir = stackEnv('PROMETHEUS_TARGETS_DIR');
const root = stackEnv('MAILROOM_ROOT');
const admin = createPool({ url: stackEnv('DATABASE_URL'), max: 2 });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'analytics-test',
  logger,
});
const groupId = unique('analytics');
const billing = unique('billing');
const support = unique('support');
const sdFile = join(targetsDir, `${groupId}.json`);
const apiKey = `${groupId}-key-0123456789abcdef`;

/** Metrics of apps that do not run yet: their panels can only be checked for validity. */

let schema: RollupSchema;
let producer: MailroomProducer;
const stops: (() => Promise<void>)[] = [];
let analyticsPort = 0;
const eventsTopic = unique('test.analytics.events');
const env = { ...process.env, METRICS_PORT: '0', LOG_LEVEL: 'silent' };
const ticketIds: string[] = [];

async function promQuery(query: string) {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: unknown[] };
  };
  return { http: res.status, ...body, result: body.data?.result ?? [] };
}

beforeAll(async () => {
  schema = await freshSchema(admin);
  const analytics = await start(
    loadConfig(AnalyticsConfig, {
      ...env,
      ANALYTICS_GROUP_ID: groupId,
      ANALYTICS_FROM_BEGINNING: 'false',
      ANALYTICS_DB_SCHEMA: schema.name,
      // A topic of its own: the categorizers and routers of other test files running at
      // the same time would otherwise add events to these tickets and change the counts.
      ANALYTICS_EVENTS_TOPIC: eventsTopic,
    }),
    { logger },
  );
  stops.push(analytics.stop);
  analyticsPort = analytics.port;
  const store = await startTicketStore(
    loadConfig(TicketStoreConfig, {
      ...env,
      TICKET_STORE_GROUP_ID: unique('ticket-store'),
      TICKET_STORE_FROM_BEGINNING: 'false',
    }),
    { logger },
  );
  stops.push(store.stop);
  const intake = await startIntake(
    loadConfig(IntakeConfigSchema, {
      ...env,
      PORT: '0',
      BOOTSTRAP_API_KEYS: `${groupId}:intake:${apiKey}`,
      PIPELINE_HEALTH_URLS: '',
    }),
    { logger },
  );
  stops.push(intake.stop);
  // The apps whose own metrics the dashboards show: the notifier (SMTP; on a topic of its
  // own, so it mails nobody) and the imap-poller on a fresh mailbox (last fetch). The
  // categorizer joins in the panel test, after the exact rollup counts are checked.
  const notifier = await startNotifier(
    loadConfig(NotifierConfig, {
      ...env,
      NOTIFIER_GROUP_ID: unique('notifier'),
      NOTIFIER_FROM_BEGINNING: 'false',
      NOTIFIER_EVENTS_TOPIC: unique('test.dashboards.events'),
    }),
    { logger },
  );
  stops.push(notifier.stop);
  const inbox = await createMailUser(`${unique('dash-inbox')}@${stackEnv('MAIL_DOMAIN')}`);
  const poller = await startImapPoller(
    loadConfig(ImapPollerConfig, { ...env, IMAP_USER: inbox, IMAP_PASSWORD: inbox }),
    { logger },
  );
  stops.push(poller.stop);
  await Promise.all([analytics.joined, store.joined, notifier.joined]);
  await new Promise((r) => setTimeout(r, 1000)); // the new groups' offsets are resolved

  mkdirSync(targetsDir, { recursive: true });
  const target = (port: number, app: string) => ({
    targets: [`127.0.0.1:${port}`],
    labels: { app, test: groupId },
  });
  writeFileSync(
    sdFile,
    JSON.stringify([
      target(analytics.port, 'analytics'),
      target(store.port, 'ticket-store'),
      target(intake.port, 'intake-api'),
      target(notifier.port, 'notifier'),
      target(poller.port, 'imap-poller'),
    ]),
  );

  producer = await createProducer(kafka);
  const now = Date.now();
  const ago = (m: number) => new Date(now - m * 60_000);
  const events: Envelope[] = [
    ...lifecycle({
      createdAt: ago(90),
      department: billing,
      category: 'invoice',
      priority: 'high',
      firstResponseAfterSeconds: 900,
      resolveAfterSeconds: 3000,
    }),
    ...lifecycle({
      createdAt: ago(60),
      department: billing,
      category: 'refund',
      rerouteTo: support,
    }),
    ...lifecycle({
      createdAt: ago(30),
      department: support,
      category: 'login',
      priority: 'critical',
      method: 'local',
      confidence: 0.41,
      firstResponseAfterSeconds: 120,
    }),
    ...lifecycle({
      createdAt: ago(5),
      channel: 'api',
      department: support,
      category: 'vpn',
      resolveAfterSeconds: 240,
    }),
  ];
  ticketIds.push(...new Set(events.map((e) => e.ticketId!)));
  // Every event twice: redelivery must not count twice.
  const records = events.map((e) => encodeEvent(e, e.ticketId!));
  await producer.send(eventsTopic, [...records, ...records]);
  // A record no consumer can read: it must show up as a dead letter, not stop anything.
  await producer.send(eventsTopic, [{ key: randomUUID(), value: '{"not":"an event"}' }]);
  const base = `http://127.0.0.1:${intake.port}`;
  const submitted = await fetch(`${base}/api/tickets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Cannot log in',
      description: 'The login page says my password expired.',
      requester: { email: 'carol@example.test' },
    }),
  });
  expect(submitted.status).toBe(202);
}, 120_000);

afterAll(async () => {
  rmSync(sdFile, { force: true });
  for (const stop of stops.reverse()) await stop();
  await producer?.disconnect();
  await schema?.drop();
  await admin.end();
});

describe('analytics in the running pipeline', () => {
  it('rolls up the events of tickets.events once each, whatever the redeliveries', async () => {
    await waitFor(
      async () => {
        const { rows } = await schema.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM analytics_applied_events WHERE ticket_id = ANY($1)`,
          [ticketIds],
        );
        return rows[0]!.n === 21 || undefined;
      },
      { what: 'the 21 distinct events applied', timeoutMs: 40_000 },
    );
    const summary = await dashboardSummary(schema.pool);
    const dept = (d: string) => summary.byDepartment.find((x) => x.department === d);
    expect(dept(billing)).toEqual({ department: billing, total: 1, open: 0 });
    expect(dept(support)).toEqual({ department: support, total: 3, open: 2 });
    // /metrics reuses a rollup read for up to a second: poll until it shows the last event.
    const backlog = `mailroom_backlog_tickets{department="${support}",priority="critical",app="analytics"} 1`;
    const deadLetter = new RegExp(
      `mailroom_consumer_records_total\\{group="${groupId}",topic="${eventsTopic}",outcome="dead_lettered",app="analytics"\\} 1`,
    );
    await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${analyticsPort}/metrics`)).text();
        return text.includes(backlog) && deadLetter.test(text);
      },
      { what: 'the backlog and the dead letter on /metrics' },
    );
  }, 60_000);

  it('replaying the topic from the start into an empty schema rebuilds the same rollups', async () => {
    const replica = await freshSchema(admin);
    try {
      const replay = await start(
        loadConfig(AnalyticsConfig, {
          ...env,
          ANALYTICS_GROUP_ID: unique('analytics-replay'),
          ANALYTICS_FROM_BEGINNING: 'true',
          ANALYTICS_DB_SCHEMA: replica.name,
          ANALYTICS_EVENTS_TOPIC: eventsTopic,
        }),
        { logger },
      );
      try {
        await waitFor(
          async () => {
            const { rows } = await replica.pool.query<{ n: number }>(
              'SELECT count(*)::int AS n FROM analytics_applied_events',
            );
            return rows[0]!.n >= 21 || undefined;
          },
          { what: 'the replay to apply every event', timeoutMs: 60_000 },
        );
      } finally {
        await replay.stop();
      }
      expect(await replica.dump()).toEqual(await schema.dump());
    } finally {
      await replica.drop();
    }
  }, 90_000);

  it('every PromQL panel of the dashboards is valid and returns data from Prometheus', async () => {
    // The categorizer against the fake Messages API: LLM latency, tokens, circuit state.
    const fake = await startFakeAnthropic({});
    stops.push(() => fake.close());
    const categorizer = await startCategorizer(
      loadConfig(CategorizerConfig, {
        ...env,
        CATEGORIZER_GROUP_ID: unique('categorizer'),
        CATEGORIZER_FROM_BEGINNING: 'false',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
      }),
      { logger },
    );
    stops.push(categorizer.stop);
    await categorizer.joined;
    const targets = JSON.parse(readFileSync(sdFile, 'utf8')) as unknown[];
    writeFileSync(
      sdFile,
      JSON.stringify([
        ...targets,
        {
          targets: [`127.0.0.1:${categorizer.port}`],
          labels: { app: 'categorizer', test: groupId },
        },
      ]),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const probe = randomUUID();
    await producer.send(TOPICS.events, [
      encodeEvent(
        makeEvent('ticket.created', {
          ticketId: probe,
          source: 'test',
          payload: {
            number: 1,
            title: 'VPN drops every hour',
            description: 'The VPN disconnects every hour.',
            requester: { email: 'probe@example.test' },
            channel: 'api',
            status: 'pending',
            attachments: [],
            createdAt: new Date().toISOString(),
            receivedAt: new Date().toISOString(),
          },
        }),
        probe,
      ),
    ]);
    await waitFor(async () => fake.requests.length > 0, {
      what: 'an LLM request',
      timeoutMs: 30_000,
    });
    // Prometheus has scraped the categorizer a few times (its target file is new).
    await waitFor(
      async () =>
        (await promQuery(`count_over_time(mailroom_llm_tokens_total{test="${groupId}"}[1m]) >= 3`))
          .result.length > 0,
      { what: 'three scrapes of the categorizer', timeoutMs: 60_000, intervalMs: 1000 },
    );
    // Enough scrapes of our targets for rate()/delta() over one minute.
    await waitFor(
      async () => {
        const r = await promQuery(
          `count_over_time(mailroom_backlog_tickets{test="${groupId}",department="${support}"}[1m]) >= 3`,
        );
        return r.result.length > 0;
      },
      { what: 'three scrapes of the analytics app', timeoutMs: 60_000, intervalMs: 1000 },
    );
    const problems: string[] = [];
    let checked = 0;
    for (const file of readdirSync(join(root, 'grafana/dashboards'))) {
      const dashboard = JSON.parse(
        readFileSync(join(root, 'grafana/dashboards', file), 'utf8'),
      ) as {
        title: string;
        panels: { title: string; targets: { expr?: string }[] }[];
      };
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          if (!target.expr) continue; // SQL panels (Postgres data source)
          const query = target.expr
            .replaceAll('$__rate_interval', '1m')
            .replaceAll('$__interval', '15s')
            .replaceAll('$__range', '1h')
            .replaceAll('$department', support);
          const r = await promQuery(query);
          checked++;
          const where = `${dashboard.title} / ${panel.title}: ${query}`;
          if (r.http !== 200 || r.status !== 'success') problems.push(`${where} → ${r.error}`);
          else if (r.result.length === 0) problems.push(`${where} → no data`);
        }
      }
    }
    console.log(`checked ${checked} panel queries, every one valid and with data`);
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  }, 90_000);
});
