// A steady, open-loop load of tickets: REST submissions at a fixed rate (each retried
// with its Idempotency-Key until accepted, as a careful client does during an outage)
// and some mail to support@ over SMTP. Every ticket carries the window's marker in its
// title, so the audit finds exactly the tickets of one scenario among everyone's.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import { stackEnv } from '../../support/env.js';
import type { Pipeline } from '../../support/pipeline.js';
import { createMailUsers } from './mail-users.js';

export interface Submission {
  kind: 'api' | 'email';
  marker: string;
  title: string;
  requester: string;
  /** Ticket id (REST: from the 202 answer). */
  id?: string;
  sentAt: number;
  acceptedAt?: number;
  attempts: number;
}

export interface LoadOptions {
  marker: string;
  /** REST submissions per second. */
  ratePerSec: number;
  /** One mail every this many ms (0: none). */
  mailEveryMs?: number;
  /** How long a submission is retried after stop() before it counts as refused. */
  retryForMs?: number;
}

export interface Load {
  /** Tickets from now on carry this marker (one window per fault). */
  setMarker(marker: string): void;
  /** Stops sending, waits for the submissions in flight; returns the accepted ones. */
  stop(): Promise<LoadResult>;
}

export interface LoadResult {
  accepted: Submission[];
  refused: number;
  /** HTTP status (or "network") → count, retries included. */
  answers: Record<string, number>;
}

/**
 * One requester address per ticket, created in GreenMail first. One address per ticket
 * keeps the audit exact even when another test's notifier (same shared outbox, other
 * per-sender limit) handles one of our tickets first: it still mails it once.
 */
async function newRequester(marker: string, n: number): Promise<string> {
  const email = `${marker}-${n}@${stackEnv('MAIL_DOMAIN')}`.toLowerCase();
  await createMailUsers([email]);
  return email;
}

const TOPICS = [
  'The printer on floor 3 prints blank pages since the toner change.',
  'I was charged twice for my subscription this month, please refund one payment.',
  'VPN disconnects every ten minutes when I work from home.',
  'Please reset my password, the reset link has expired.',
  'The mobile app crashes when I open the settings page.',
  'How do I add a new user to our company account?',
];

export function startLoad(pipeline: Pipeline, options: LoadOptions): Load {
  let marker = options.marker;
  let seq = 0;
  let stopped = false;
  let giveUpAt = Infinity;
  const accepted: Submission[] = [];
  const answers: Record<string, number> = {};
  let refused = 0;
  const inFlight = new Set<Promise<void>>();
  const count = (k: string) => (answers[k] = (answers[k] ?? 0) + 1);
  const next = () => {
    const n = seq++;
    return {
      marker,
      title: `${marker} n${n} ${TOPICS[n % TOPICS.length]!.slice(0, 40)}`,
      n,
      description: TOPICS[n % TOPICS.length]!,
    };
  };
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const submitRest = async () => {
    const t = next();
    const requester = await newRequester(t.marker, t.n);
    const sub: Submission = { kind: 'api', ...t, requester, sentAt: Date.now(), attempts: 0 };
    const key = randomUUID();
    while (Date.now() < giveUpAt) {
      sub.attempts++;
      try {
        const res = await fetch(`${pipeline.intakeUrl}/api/tickets`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${pipeline.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify({
            title: t.title,
            description: t.description,
            requester: { email: requester, name: 'Load Tester' },
          }),
          signal: AbortSignal.timeout(30_000),
        });
        count(String(res.status));
        const body = (await res.json()) as { id?: string };
        if (res.ok && body.id) {
          sub.id = body.id;
          sub.acceptedAt = Date.now();
          accepted.push(sub);
          return;
        }
        if (res.status < 500 && res.status !== 429) break; // refused for good
      } catch {
        count('network');
      }
      await sleep(500);
    }
    refused++;
  };

  const mailer = nodemailer.createTransport({
    host: stackEnv('SMTP_HOST'),
    port: Number(stackEnv('SMTP_PORT')),
    secure: false,
    pool: true,
    maxConnections: 2,
  });
  const sendMail = async () => {
    const t = next();
    const requester = await newRequester(t.marker, t.n);
    const sub: Submission = { kind: 'email', ...t, requester, sentAt: Date.now(), attempts: 0 };
    while (Date.now() < giveUpAt) {
      sub.attempts++;
      try {
        await mailer.sendMail({
          from: { name: 'Load Tester', address: requester },
          to: `support@${stackEnv('MAIL_DOMAIN')}`,
          subject: t.title,
          text: `${t.description}\n\nThanks,\nLoad Tester`,
        });
        sub.acceptedAt = Date.now();
        accepted.push(sub);
        return;
      } catch {
        count('smtp-error');
        await sleep(500);
      }
    }
    refused++;
  };

  // Open loop: the schedule does not wait for answers (a slow pipeline builds a backlog).
  const tickMs = 100;
  const perTick = options.ratePerSec / (1000 / tickMs);
  let due = 0;
  const restTimer = setInterval(() => {
    due += perTick;
    for (; due >= 1; due--) track(submitRest());
  }, tickMs);
  const mailTimer = options.mailEveryMs
    ? setInterval(() => track(sendMail()), options.mailEveryMs)
    : undefined;

  return {
    setMarker: (m) => {
      marker = m;
    },
    stop: async () => {
      if (stopped) throw new Error('load already stopped');
      stopped = true;
      clearInterval(restTimer);
      if (mailTimer) clearInterval(mailTimer);
      giveUpAt = Date.now() + (options.retryForMs ?? 90_000);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      mailer.close();
      return { accepted, refused, answers };
    },
  };
}
