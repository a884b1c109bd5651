// GreenMail over its REST API: users created before mail arrives (its auto-creation on
// first delivery races under pooled connections), counted acknowledgements, clean-up.
import { stackEnv } from '../../support/env.js';

const api = () => stackEnv('GREENMAIL_API_URL');
const ACK_SUBJECT = /^\[#\d+\]\s+We received your request/;

export async function createMailUsers(emails: readonly string[]): Promise<void> {
  for (const email of emails) {
    const res = await fetch(`${api()}/api/user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, login: email, password: email }),
    });
    if (!res.ok) throw new Error(`GreenMail user ${email}: ${res.status} ${await res.text()}`);
  }
}

/** GreenMail keeps mail in memory: every run removes its users. */
export async function deleteMailUsers(emails: readonly string[]): Promise<void> {
  await inParallel(emails, 8, async (email) => {
    const res = await fetch(`${api()}/api/user/${encodeURIComponent(email)}`, { method: 'DELETE' });
    await res.arrayBuffer();
    if (!res.ok && res.status !== 404) throw new Error(`GreenMail kept ${email}: ${res.status}`);
  });
}

export interface AckMails {
  /** Distinct Message-IDs of acknowledgements: more than one is a real duplicate. */
  distinct: number;
  /** Deliveries of the same Message-ID again (the documented SMTP window: the server
   * accepted, the connection died before the notifier saw 250, it sent again). */
  resent: number;
}

/**
 * Acknowledgements in each mailbox. Counted by mailbox, not by the [#number] of the
 * subject: every ticket of a run has its own requester, and the number can come from
 * another deployment's ticket-store that shares the topics (e.g. a running npm start).
 */
export async function ackMails(emails: readonly string[]): Promise<Map<string, AckMails>> {
  const out = new Map<string, AckMails>();
  await inParallel(emails, 16, async (email) => {
    const res = await fetch(`${api()}/api/user/${encodeURIComponent(email)}/messages/`);
    if (!res.ok) throw new Error(`GreenMail ${email}: ${res.status} ${await res.text()}`);
    const acks = ((await res.json()) as { subject?: string; 'Message-ID'?: string }[]).filter((m) =>
      ACK_SUBJECT.test(m.subject ?? ''),
    );
    const ids = new Set(acks.map((m) => m['Message-ID'] ?? ''));
    out.set(email, { distinct: ids.size, resent: acks.length - ids.size });
  });
  return out;
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}
