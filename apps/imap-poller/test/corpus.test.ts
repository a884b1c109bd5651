// Real-world corpora through IMAP: bounces/auto-replies open no ticket; broken MIME never
// crashes the poller, every message becomes a ticket or a dead letter with a reason.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { createPool } from '@mailroom/db';
import { DLQ_TOPICS, TOPICS, type EmailReceived } from '@mailroom/events';
import { createKafka, createProducer, parseBrokers, type MailroomProducer } from '@mailroom/kafka';
import { start as startTicketStore, TicketStoreConfig } from '@mailroom/ticket-store';
import { stackEnv, testLogger, unique, waitFor } from '../../../test/support/env.js';
import { sharedDataDir } from '../../../test/support/shared-data.js';
import { ImapPollerConfig } from '../src/config.js';
import { start } from '../src/start.js';
import {
  emailPayloads,
  appendAll,
  dovecotMailbox,
  dropMailbox,
  greenmailMailbox,
  smallMessage,
  watch,
  withImap,
  type TestMailbox,
  type Watched,
  pollerEnv,
} from './support.js';

const logger = testLogger();
const pool = createPool({ url: stackEnv('DATABASE_URL') });
const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'corpus',
  logger,
});
let store: Awaited<ReturnType<typeof startTicketStore>>;
let producer: MailroomProducer;
let raw: Watched;
let dlq: Watched;

beforeAll(async () => {
  store = await startTicketStore(
    loadConfig(TicketStoreConfig, {
      ...process.env,
      TICKET_STORE_GROUP_ID: unique('ts-corpus'),
      TICKET_STORE_FROM_BEGINNING: 'false',
      METRICS_PORT: '0',
    }),
    { logger },
  );
  producer = await createProducer(kafka);
  raw = await watch(kafka, producer, logger, TOPICS.raw, false);
  dlq = await watch(kafka, producer, logger, DLQ_TOPICS.raw, false);
  await Promise.all([store.joined, raw.consumer.joined, dlq.consumer.joined]);
  await new Promise((r) => setTimeout(r, 1000));
}, 120_000);

afterAll(async () => {
  await Promise.all([raw?.consumer.stop(), dlq?.consumer.stop()]);
  await store?.stop();
  await producer?.disconnect();
  await pool.end();
});

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.eml'))
    .map((d) => join(d.parentPath, d.name))
    .sort();

/** Appends the files (plus a normal sentinel mail last) and ingests them once. */
async function ingest(files: string[], box: TestMailbox) {
  const name = box.folder === 'INBOX' ? box.user : `${box.user}/${box.folder}`;
  const sentinel = smallMessage(0, unique('sentinel'));
  await appendAll(box, [...files.map((f) => readFileSync(f)), sentinel]);
  const uids = await withImap(box, async (c) => {
    await c.mailboxOpen(box.folder);
    return (await c.fetchAll('1:*', { uid: true })).map((m) => m.uid);
  });
  expect(uids).toHaveLength(files.length + 1);
  const poller = await start(
    loadConfig(ImapPollerConfig, {
      ...process.env,
      ...pollerEnv(box),
      METRICS_PORT: '0',
      IMAP_BATCH_SIZE: '50',
    }),
    { logger },
  );
  try {
    const byUid = await waitFor(
      () => {
        const seen = new Map<number, { email?: EmailReceived; dead?: Record<string, string> }>();
        for (const p of emailPayloads(raw.records, name)) seen.set(p.uid!, { email: p });
        for (const r of dlq.records) {
          if (r.headers['x-source-mailbox'] === name)
            seen.set(Number(r.headers['x-source-uid']), { dead: r.headers });
        }
        return seen.size >= uids.length ? seen : null;
      },
      { what: 'a record per message', timeoutMs: 60_000 },
    );
    // ticket-store has caught up once the sentinel (appended last) has its ticket.
    const sentinelId = byUid.get(uids[uids.length - 1]!)!.email!.messageId;
    await waitFor(
      async () =>
        (await pool.query('select 1 from tickets where message_id = $1', [sentinelId])).rowCount,
      { what: 'sentinel ticket', timeoutMs: 30_000 },
    );
    // Other partitions may lag behind the sentinel's: wait until every human mail of
    // the mailbox is on a ticket (a reply within the corpus is a message on its ticket).
    const expected = [...byUid.values()].flatMap((v) =>
      v.email && !v.email.automated.automated && v.email.messageId !== sentinelId
        ? [v.email.messageId]
        : [],
    );
    const onTicketsNow = async () =>
      (
        await pool.query<{ message_id: string; opened: boolean }>(
          `select m.message_id, t.source_key = m.source_key as opened
             from ticket_messages m join tickets t on t.id = m.ticket_id
            where m.source_key like $1 and m.message_id <> $2`,
          [`email:${name.toLowerCase()}:%`, sentinelId],
        )
      ).rows;
    const rows = await waitFor(
      async () => {
        const now = await onTicketsNow();
        const have = new Set(now.map((r) => r.message_id));
        return expected.every((id) => have.has(id)) ? now : null;
      },
      { what: 'a ticket for every human mail', timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 500));
    rows.push(...(await onTicketsNow()));
    expect(poller.mailboxes()[0]).toMatchObject({ connected: true, error: null });
    byUid.delete(uids[uids.length - 1]!);
    return {
      byUid,
      tickets: new Set(rows.filter((r) => r.opened).map((r) => r.message_id)),
      onTickets: new Set(rows.map((r) => r.message_id)),
    };
  } finally {
    await poller.stop();
    await dropMailbox(box);
  }
}

describe('corpora through IMAP', () => {
  it('opens no ticket for a sample of 50 sisimai bounces and auto-replies', async () => {
    const all = filesUnder(join(sharedDataDir(), 'mail/bounces/sisimai/automated'));
    const sample = all.filter((_, i) => i % Math.ceil(all.length / 50) === 0);
    const { byUid, tickets } = await ingest(sample, await greenmailMailbox('corpus'));
    const emails = [...byUid.values()].flatMap((v) => (v.email ? [v.email] : []));
    const notDetected = emails.filter((e) => !e.automated.automated).map((e) => e.subject);
    expect(notDetected).toEqual([]);
    expect(tickets.size).toBe(0);
    console.log(
      `[corpus] sisimai sample: ${sample.length} mails, ${emails.length} records, ` +
        `${byUid.size - emails.length} dead letters, 0 tickets`,
    );
  }, 120_000);

  it('never crashes on the mikel MIME corpus: a ticket or a dead letter with a reason each', async () => {
    const files = filesUnder(join(sharedDataDir(), 'mail/mime/mikel-mail'));
    // Dovecot: GreenMail drops the connection on APPEND of multiple_invalid_content_dispositions.eml.
    const { byUid, tickets, onTickets } = await ingest(files, await dovecotMailbox());
    expect(byUid.size).toBe(files.length);
    let dead = 0;
    for (const v of byUid.values()) {
      if (v.dead) {
        dead++;
        expect(v.dead['x-error-code']).toBeTruthy();
        expect(v.dead['x-error-message']).toBeTruthy();
      } else if (!v.email!.automated.automated) {
        expect(onTickets.has(v.email!.messageId), v.email!.subject).toBe(true);
      }
    }
    console.log(
      `[corpus] mikel-mail: ${files.length} mails, ${tickets.size} tickets, ` +
        `${onTickets.size - tickets.size} threaded replies, ${dead} dead letters, ` +
        `${files.length - onTickets.size - dead} automated or duplicate Message-ID (no ticket)`,
    );
  }, 120_000);
});
