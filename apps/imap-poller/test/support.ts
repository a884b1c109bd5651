// Helpers of the imap-poller tests and bench: fresh mailboxes on the real servers,
// and watchers of the shared topics (filtered by what a test created).
import { ImapFlow } from 'imapflow';
import { Registry } from 'prom-client';
import { decodeEvent, type EmailReceived, type Envelope } from '@mailroom/events';
import { runConsumer, type MailroomProducer, type RunningConsumer } from '@mailroom/kafka';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@mailroom/observability';
import { stackEnv, unique } from '../../../test/support/env.js';

export interface TestMailbox {
  user: string;
  password: string;
  host: string;
  port: number;
  folder: string;
}

/** The poller's environment for one mailbox (IMAP_HOST … IMAP_FOLDER). */
export function pollerEnv(box: TestMailbox): Record<string, string> {
  return {
    IMAP_HOST: box.host,
    IMAP_PORT: String(box.port),
    IMAP_USER: box.user,
    IMAP_PASSWORD: box.password,
    IMAP_FOLDER: box.folder,
  };
}

/** A new GreenMail user (login = address), so no other test's mail is in its INBOX. */
export async function greenmailMailbox(prefix = 'support'): Promise<TestMailbox> {
  const user = `${unique(prefix)}@${stackEnv('MAIL_DOMAIN')}`;
  const res = await fetch(`${stackEnv('GREENMAIL_API_URL')}/api/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: user, login: user, password: 'secret' }),
  });
  if (!res.ok) throw new Error(`GreenMail refused user ${user}: ${res.status} ${await res.text()}`);
  return {
    user,
    password: 'secret',
    host: stackEnv('IMAP_HOST'),
    port: Number(stackEnv('IMAP_PORT')),
    folder: 'INBOX',
  };
}

/** GreenMail keeps mail in memory: tests and benches remove their users when done. */
export async function dropMailbox(box: TestMailbox): Promise<void> {
  if (box.folder !== 'INBOX') {
    await withImap(box, (c) => c.mailboxDelete(box.folder));
    return;
  }
  const res = await fetch(
    `${stackEnv('GREENMAIL_API_URL')}/api/user/${encodeURIComponent(box.user)}`,
    { method: 'DELETE' },
  );
  if (!res.ok) throw new Error(`GreenMail kept user ${box.user}: ${res.status}`);
}

/** A new folder of Dovecot's `bob` (Dovecot has a fixed user list). */
export async function dovecotMailbox(): Promise<TestMailbox> {
  const box: TestMailbox = {
    user: 'bob',
    password: 'bob',
    host: '127.0.0.1',
    port: Number(stackEnv('DOVECOT_IMAP_PORT')),
    folder: unique('ingest'),
  };
  await withImap(box, (c) => c.mailboxCreate(box.folder));
  return box;
}

export async function withImap<T>(box: TestMailbox, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({
    host: box.host,
    port: box.port,
    secure: false,
    auth: { user: box.user, pass: box.password },
    logger: false,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout();
  }
}

/** APPENDs messages, a few in flight at a time. */
export async function appendAll(box: TestMailbox, messages: Buffer[]): Promise<void> {
  await withImap(box, async (c) => {
    for (let i = 0; i < messages.length; i += 20) {
      await Promise.all(messages.slice(i, i + 20).map((m) => c.append(box.folder, m)));
    }
  });
}

export function smallMessage(i: number, tag: string, from = 'customer@customer.test'): Buffer {
  return Buffer.from(
    [
      `From: Customer ${i} <${from}>`,
      `To: support@example.test`,
      `Subject: ${tag} request ${i}`,
      `Message-ID: <${tag}-${i}@customer.test>`,
      `Date: ${new Date().toUTCString()}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Hello, this is request ${i} of ${tag}. The printer on floor ${i % 7} is jammed.`,
      '',
    ].join('\r\n'),
  );
}

export interface Watched {
  records: { key: string | null; value: Buffer | null; headers: Record<string, string> }[];
  events: Envelope[];
  consumer: RunningConsumer;
}

/** Collects a topic from its newest offset (a unique group); decoded when `decode`. */
export async function watch(
  kafka: Kafka,
  producer: MailroomProducer,
  logger: Logger,
  topic: string,
  decode: boolean,
): Promise<Watched> {
  const w: Omit<Watched, 'consumer'> = { records: [], events: [] };
  const consumer = await runConsumer({
    kafka,
    producer,
    logger,
    registry: new Registry(),
    groupId: unique('watch'),
    topics: [topic],
    fromBeginning: false,
    handler: async (r) => {
      w.records.push({ key: r.key, value: r.value, headers: r.headers });
      if (decode) w.events.push(decodeEvent(r.value));
    },
  });
  return { ...w, consumer };
}

/**
 * The `raw.email_received` payloads of `mailbox` among records watched on tickets.raw.
 * Other test files share that topic and put deliberately broken records on it: those
 * are skipped.
 */
export function emailPayloads(records: Watched['records'], mailbox: string): EmailReceived[] {
  return records.flatMap((r) => {
    try {
      const p = (JSON.parse(r.value?.toString() ?? '') as { payload?: EmailReceived }).payload;
      return p?.mailbox === mailbox ? [p] : [];
    } catch {
      return [];
    }
  });
}
