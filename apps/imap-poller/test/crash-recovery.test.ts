// SIGKILL mid-batch, restart: no message lost, no duplicate ticket. GreenMail and Dovecot,
// with the bulk FETCH reader of our own (the default) and with imapflow's.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { TOPICS } from '@mailroom/events';
import { createKafka, createProducer, parseBrokers, type MailroomProducer } from '@mailroom/kafka';
import { start as startTicketStore, TicketStoreConfig } from '@mailroom/ticket-store';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import {
  emailPayloads,
  appendAll,
  dovecotMailbox,
  dropMailbox,
  greenmailMailbox,
  smallMessage,
  watch,
  type TestMailbox,
  type Watched,
  pollerEnv,
} from './support.js';

// Enough that the kill lands mid-run even when a busy machine delays the test's polls.
const COUNT = 800;
const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'crash',
  logger,
});
let store: Awaited<ReturnType<typeof startTicketStore>>;
let producer: MailroomProducer;
let raw: Watched;

beforeAll(async () => {
  store = await startTicketStore(
    loadConfig(TicketStoreConfig, {
      ...process.env,
      TICKET_STORE_GROUP_ID: unique('ts-crash'),
      TICKET_STORE_FROM_BEGINNING: 'false',
      METRICS_PORT: '0',
    }),
    { logger },
  );
  producer = await createProducer(kafka);
  raw = await watch(kafka, producer, logger, TOPICS.raw, false);
  await Promise.all([store.joined, raw.consumer.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await raw?.consumer.stop();
  await store?.stop();
  await producer?.disconnect();
  await pool.end();
});

function spawnPoller(box: TestMailbox, reader: string, client: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/imap-poller/src/main.ts'], {
    cwd: stackEnv('MAILROOM_ROOT'),
    env: {
      ...process.env,
      ...pollerEnv(box),
      IMAP_FETCH_READER: reader,
      PRODUCER_CLIENT: client,
      IMAP_BATCH_SIZE: '20',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

const checkpoint = async (name: string) =>
  Number(
    (
      await pool.query<{ last_uid: string }>(
        'select last_uid from imap_checkpoints where mailbox = $1',
        [name],
      )
    ).rows[0]?.last_uid ?? 0,
  );

describe.each([
  ['GreenMail', 'own', 'platformatic', () => greenmailMailbox('crash')],
  ['Dovecot', 'own', 'platformatic', () => dovecotMailbox()],
  ['GreenMail', 'imapflow', 'platformatic', () => greenmailMailbox('crash')],
  ['GreenMail', 'own', 'kafkajs', () => greenmailMailbox('crash')],
])(
  'SIGKILL mid-batch against %s, FETCH read by %s, produced by %s',
  (_server, reader, client, makeBox) => {
    it(`loses none of ${COUNT} messages and creates no duplicate ticket`, async () => {
      const box = await makeBox();
      const name = box.folder === 'INBOX' ? box.user : `${box.user}/${box.folder}`;
      const tag = unique('crash');
      await appendAll(
        box,
        Array.from({ length: COUNT }, (_, i) => smallMessage(i, tag)),
      );

      const first = spawnPoller(box, reader, client);
      const exited = new Promise((r) => first.once('exit', r));
      const killedAt = await waitFor(
        async () => {
          const uid = await checkpoint(name);
          return uid >= 20 ? uid : null;
        },
        { what: 'a few batches', timeoutMs: 60_000, intervalMs: 5 },
      );
      first.kill('SIGKILL');
      await exited;
      expect(killedAt).toBeLessThan(COUNT);

      const second = spawnPoller(box, reader, client);
      try {
        await waitFor(async () => (await checkpoint(name)) >= COUNT, {
          what: 'the restarted poller to finish',
          timeoutMs: 60_000,
        });
      } finally {
        second.kill('SIGTERM');
      }
      // The test's own consumer of tickets.raw may still be catching up with the poller.
      const idsOnTopic = () => new Set(emailPayloads(raw.records, name).map((p) => p.messageId));
      const ids = await waitFor(() => (idsOnTopic().size >= COUNT ? idsOnTopic() : null), {
        what: 'every Message-ID on tickets.raw',
        timeoutMs: 30_000,
      });
      expect(ids.size).toBe(COUNT);
      const tickets = await waitFor(
        async () => {
          const { rows } = await pool.query<{ n: number; distinct_ids: number }>(
            `select count(*)::int as n, count(distinct message_id)::int as distinct_ids
             from tickets where source_key like $1`,
            [`email:${name.toLowerCase()}:%`],
          );
          return rows[0]!.n >= COUNT ? rows[0] : null;
        },
        { what: 'every ticket', timeoutMs: 30_000 },
      );
      expect(tickets).toEqual({ n: COUNT, distinct_ids: COUNT });
      await dropMailbox(box);
    }, 150_000);
  },
);
