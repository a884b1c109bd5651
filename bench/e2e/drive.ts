// The bench's client: REST submissions (open loop at a fixed rate, or as fast as intake
// takes them with a window of requests in flight) and a share of mail to support@ over
// SMTP; then waits for every ticket's acknowledgement (or for progress to stop).
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';
import type { Pipeline } from '../../test/support/pipeline.js';
import type { AckWatch } from './ack-watch.js';

export interface DriveOptions {
  pipeline: Pipeline;
  acks: AckWatch;
  n: number;
  /**
   * Seconds of warm-up before the measured tickets: the rate rises from 0 to `rate` over
   * them (rate × seconds / 2 tickets, left out of the figures, see AckWatch), so the
   * pipeline's code and connections are warm without a backlog built while they were cold.
   */
  warmupSeconds?: number;
  /** Called when the first measured ticket (after the warm-up) is about to be sent. */
  onMeasuring?: () => void;
  /** Tickets per second; 0 = as fast as possible. */
  rate: number;
  mailShare: number;
  requesters: readonly string[];
  concurrency: number;
  /** The address the poller reads (the run's own support mailbox). */
  supportAddress: string;
}

export interface Driven {
  startedAt: number;
  rest: number;
  mail: number;
  refused: number;
  /** Tickets per second accepted by intake (REST) or GreenMail (mail). */
  acceptRate: number;
}

const TEXTS = [
  'The printer on floor 3 prints blank pages since the toner change.',
  'I was charged twice for my subscription this month, please refund one payment.',
  'VPN disconnects every ten minutes when I work from home.',
  'Please reset my password, the reset link has expired.',
  'The mobile app crashes when I open the settings page.',
];

/** Tickets of a warm-up ramp from 0 to `rate` over `seconds` (none without a rate). */
export const warmupTickets = (rate: number, seconds: number) =>
  rate > 0 ? Math.round((rate * seconds) / 2) : 0;

export async function drive(o: DriveOptions): Promise<Driven> {
  const mailer = nodemailer.createTransport({
    host: process.env.SMTP_HOST,
    port: Number(process.env.SMTP_PORT),
    secure: false,
    pool: true,
    maxConnections: 4,
  });
  // node:http with keep-alive, not fetch: undici's fetch cost the bench about 1 ms of CPU
  // per request, taken from the pipeline it measures on the same 2 cores.
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(1, o.concurrency) });
  const intake = new URL(`${o.pipeline.intakeUrl}/api/tickets`);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        intake,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${o.pipeline.apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.on('error', reject);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.resume();
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const rampMs = o.rate > 0 ? (o.warmupSeconds ?? 0) * 1000 : 0;
  const warmup = warmupTickets(o.rate, o.warmupSeconds ?? 0);
  const total = warmup + o.n;
  const out: Driven = { startedAt: Date.now(), rest: 0, mail: 0, refused: 0, acceptRate: 0 };
  const mailEvery = o.mailShare > 0 ? Math.round(1 / o.mailShare) : Infinity;

  const one = async (i: number) => {
    const text = TEXTS[i % TEXTS.length]!;
    const title = `${o.pipeline.runId} b${i} ${text.slice(0, 40)}`;
    const requester = o.requesters[i % o.requesters.length]!;
    const byMail = i % mailEvery === mailEvery - 1;
    o.acks.expect(title, Date.now(), byMail ? 'mail' : 'rest', i < warmup);
    if (byMail) {
      out.mail++;
      await mailer.sendMail({
        from: requester,
        to: o.supportAddress,
        subject: title,
        text,
      });
      return;
    }
    out.rest++;
    const status = await post(
      JSON.stringify({ title, description: text, requester: { email: requester, name: 'Bench' } }),
    );
    if (status < 200 || status >= 300) out.refused++;
  };

  const inFlight = new Set<Promise<void>>();
  const launch = (i: number) => {
    const p = one(i).catch((err: unknown) => {
      out.refused++;
      console.error(`ticket ${i}:`, (err as Error).message);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  let measuredFrom = out.startedAt;
  for (let i = 0; i < total; i++) {
    if (o.rate > 0) {
      // The ramp's i-th ticket at rampMs·√(i/warmup); then one every 1/rate s.
      const due =
        out.startedAt +
        (i < warmup ? rampMs * Math.sqrt(i / warmup) : rampMs + ((i - warmup) * 1000) / o.rate);
      if (due > Date.now()) await sleep(due - Date.now());
    } else {
      while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
    }
    if (i === warmup) {
      measuredFrom = Date.now();
      o.onMeasuring?.();
    }
    launch(i);
  }
  await Promise.all([...inFlight]);
  out.acceptRate = o.n / ((Date.now() - measuredFrom) / 1000);
  mailer.close();
  agent.destroy();

  // Until all are acknowledged, or nothing moved for 30 s.
  let last = -1;
  let lastMove = Date.now();
  while (o.acks.acked() < total - out.refused && Date.now() - lastMove < 30_000) {
    if (o.acks.acked() !== last) {
      last = o.acks.acked();
      lastMove = Date.now();
    }
    await sleep(250);
  }
  return out;
}
