// One stage of the pipeline alone, fed a backlog: its app runs as its own process (as in
// production), the records it consumes are produced up front, and the time until its
// consumer group has committed the whole backlog is its capacity. Where the end-to-end
// bench shows which stage falls behind, this one shows by how much and why.
//
//   npx tsx bench/e2e/stage.bench.ts --stage notifier --n 3000
//   stages: ticket-store (raw submissions; with --lifecycle, then the categorized, routed
//           and acknowledged events of those tickets as a second backlog),
//           categorizer (ticket.created),
//           router (created + categorized), notifier (created + routed: real SMTP to
//           GreenMail), analytics (created + categorized + routed + acknowledged)
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadBenchEnv } from './bench-env.js';
import { parseArgs } from 'node:util';
import {
  ALL_TOPICS,
  TOPICS,
  deterministicId,
  encodeEvent,
  makeEvent,
  type Envelope,
} from '@mailroom/events';
import { createPool } from '@mailroom/db';
import { ensureTopics, parseBrokers, topicSpecs } from '@mailroom/kafka';
import { Kafka, logLevel, type Admin } from 'kafkajs';

loadBenchEnv();

const STAGES = ['ticket-store', 'categorizer', 'router', 'notifier', 'analytics'] as const;
type Stage = (typeof STAGES)[number];
const { values: args } = parseArgs({
  options: {
    stage: { type: 'string', default: 'categorizer' },
    n: { type: 'string', default: '3000' },
    env: { type: 'string', multiple: true, default: [] },
    lifecycle: { type: 'boolean', default: false },
  },
});
const stage = args.stage as Stage;
if (!STAGES.includes(stage)) throw new Error(`--stage: one of ${STAGES.join(', ')}`);
const n = Number(args.n);
const extraEnv = Object.fromEntries(
  (args.env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

const { startPipeline } = await import('../../test/support/pipeline.js');
const brokers = parseBrokers(process.env.KAFKA_BROKERS ?? '127.0.0.1:19092');
const kafka = new Kafka({ clientId: 'bench-stage', brokers, logLevel: logLevel.ERROR });
await ensureTopics(
  kafka,
  topicSpecs(ALL_TOPICS, {
    KAFKA_TOPIC_PARTITIONS: Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 6),
    KAFKA_REPLICATION_FACTOR: Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1),
  }),
);
const domain = process.env.MAIL_DOMAIN ?? 'example.test';
const TEXTS = [
  'The printer on floor 3 prints blank pages since the toner change.',
  'I was charged twice for my subscription this month, please refund one payment.',
  'VPN disconnects every ten minutes when I work from home.',
  'Please reset my password, the reset link has expired.',
];

const RUN = randomUUID().slice(0, 8);

/** The records one ticket contributes to the stage's input, in pipeline order. */
function recordsOf(i: number): Envelope[] {
  const submissionId = randomUUID();
  // ticket-store's id of the ticket of an API submission (handle-submission.ts)
  const ticketId =
    stage === 'ticket-store' ? deterministicId('ticket', `api:${submissionId}`) : randomUUID();
  const now = new Date().toISOString();
  // Addresses of this run only: the notifier's per-address counts must not see earlier runs.
  const requester = { email: `stage-${RUN}-${i % 50}@${domain}`, name: 'Stage Bench' };
  const title = `stage ${i} ${TEXTS[i % TEXTS.length]!.slice(0, 30)}`;
  const description = TEXTS[i % TEXTS.length]!;
  const number = 9_000_000 + i;
  const created = makeEvent('ticket.created', {
    ticketId,
    source: 'bench',
    payload: {
      number,
      title,
      description,
      requester,
      channel: 'api',
      status: 'pending',
      attachments: [],
      createdAt: now,
      receivedAt: now,
    },
  });
  const categorized = makeEvent('ticket.categorized', {
    ticketId,
    source: 'bench',
    payload: {
      department: 'IT Support',
      category: 'technical',
      priority: 'medium',
      confidence: 0.9,
      method: 'local',
      model: 'bench',
      latencyMs: 1,
      needsReview: false,
    },
  });
  const routed = makeEvent('ticket.routed', {
    ticketId,
    source: 'bench',
    payload: {
      department: 'IT Support',
      priority: 'medium',
      rule: 'bench',
      decidedBy: 'bench',
      requester,
      number,
      title,
    },
  });
  const acknowledged = makeEvent('ticket.acknowledged', {
    ticketId,
    source: 'bench',
    payload: {
      template: 'acknowledgement',
      to: requester.email,
      messageId: `<${ticketId}@bench>`,
      sentAt: now,
    },
  });
  switch (stage) {
    case 'ticket-store':
      return [
        makeEvent('raw.api_submission', {
          ticketId,
          source: 'bench',
          payload: {
            submissionId,
            title,
            description,
            requester,
            apiKeyId: randomUUID(),
            receivedAt: now,
          },
        }),
        ...(args.lifecycle ? [categorized, routed, acknowledged] : []),
      ];
    case 'categorizer':
      return [created];
    case 'router':
      return [created, categorized];
    case 'notifier':
      return [created, routed];
    case 'analytics':
      return [created, categorized, routed, acknowledged];
  }
}

type Ends = Map<string, number>;
async function endsOf(admin: Admin, topics: string[]): Promise<Ends> {
  const out: Ends = new Map();
  for (const topic of topics)
    for (const e of await admin.fetchTopicOffsets(topic))
      out.set(`${topic}/${e.partition}`, Number(e.high));
  return out;
}

/** Records behind the log end; a partition without a commit yet starts at `start`. */
async function lagOf(
  admin: Admin,
  groupId: string,
  topics: string[],
  start: Ends,
): Promise<number> {
  const ends = await endsOf(admin, topics);
  let lag = 0;
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) {
      const key = `${t.topic}/${p.partition}`;
      const from = Number(p.offset) >= 0 ? Number(p.offset) : (start.get(key) ?? 0);
      lag += Math.max(0, (ends.get(key) ?? 0) - from);
    }
  }
  return lag;
}

const admin = kafka.admin();
const pg = createPool({ url: process.env.DATABASE_URL!, max: 1 });
await admin.connect();
const pipeline = await startPipeline({
  apps: [stage],
  logLevel: 'warn',
  env: { [stage]: extraEnv },
});
const group = pipeline.groups[stage]!;
const topics =
  stage === 'ticket-store' ? [TOPICS.raw, TOPICS.commands, TOPICS.events] : [TOPICS.events];
/**
 * Produces a backlog (encoded beforehand: preparing the input is not the stage's work),
 * waits until the group has committed it and prints the figures. The app's CPU counts
 * from the first record produced: a stage that keeps up with the producer does most of
 * its work before the last one is sent.
 */
async function measure(label: string, records: Envelope[], tickets: number): Promise<boolean> {
  const start = await endsOf(admin, topics);
  const topicOf = (e: Envelope) => (e.type.startsWith('raw.') ? TOPICS.raw : TOPICS.events);
  const encoded = records.map((e) => ({
    topic: topicOf(e),
    record: encodeEvent(e, e.ticketId ?? e.id),
  }));
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const pid = pipeline.apps.get(stage)!.pid;
  const backends0 = await backendCpu();
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  for (let i = 0; i < encoded.length; i += 2000) {
    const slice = encoded.slice(i, i + 2000);
    await producer.send({ topic: slice[0]!.topic, messages: slice.map((m) => m.record) });
  }
  await producer.disconnect();
  const produced = Date.now();
  let lag = Infinity;
  let lastChange = Date.now();
  while (lag > 0 && Date.now() - lastChange < 60_000) {
    const now = await lagOf(admin, group, topics, start);
    if (now !== lag) lastChange = Date.now();
    lag = now;
    if (lag > 0) await new Promise((r) => setTimeout(r, 100));
  }
  const done = Date.now();
  const cpu = cpuSeconds(pid) - cpu0;
  let postgres = 0;
  for (const [backend, s] of await backendCpu()) postgres += s - (backends0.get(backend) ?? 0);
  const secs = (done - t0) / 1000;
  console.log(
    `${label}: ${tickets} tickets (${records.length} records) produced in ${(produced - t0) / 1000} s, ` +
      `drained in ${secs.toFixed(1)} s → ${(tickets / secs).toFixed(0)} tickets/s, ` +
      `${(records.length / secs).toFixed(0)} records/s; app CPU ${cpu.toFixed(1)} s ` +
      `(${((cpu * 1000) / tickets).toFixed(2)} ms per ticket), its Postgres backends ` +
      `${postgres.toFixed(1)} s (${((postgres * 1000) / tickets).toFixed(2)} ms per ticket)${lag > 0 ? `; STALLED with ${lag} behind` : ''}`,
  );
  return lag === 0;
}

try {
  const records = Array.from({ length: n }, (_, i) => recordsOf(i)).flat();
  // The records of one topic in a row: a produce request goes to one topic.
  const raw = records.filter((e) => e.type.startsWith('raw.'));
  const events = records.filter((e) => !e.type.startsWith('raw.'));
  let ok = true;
  if (raw.length > 0) ok = (await measure(stage, raw, n)) && ok;
  if (events.length > 0)
    ok = (await measure(raw.length > 0 ? `${stage} lifecycle` : stage, events, n)) && ok;
  if (!ok) process.exitCode = 1;
} finally {
  await pipeline.stop();
  await admin.disconnect();
  await pg.end();
}

/** CPU seconds so far of the stage's Postgres backends (same machine), by pid. */
async function backendCpu(): Promise<Map<number, number>> {
  const { rows } = await pg.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where application_name = $1 and datname = current_database()`,
    [stage],
  );
  return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
