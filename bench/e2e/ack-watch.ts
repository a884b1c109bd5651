// Follows tickets.events from now on (own group) and times each of our tickets from its
// submission to its ticket.acknowledged: ticket.created maps our titles to ticket ids
// (mail tickets get theirs in ticket-store), ticket.acknowledged closes the clock. The
// times are the records' own (set by the producing app: the notifier's after the SMTP
// server took the mail), so this watcher can fetch lazily, in few large fetches, and take
// less of the CPU it shares with the pipeline it measures.
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

export interface AckWatch {
  /**
   * Register a ticket before it is sent: title → submit time. Warm-up tickets are
   * waited for but left out of every figure below.
   */
  expect(title: string, sentAt: number, channel?: 'mail' | 'rest', warmup?: boolean): void;
  /** Acknowledged tickets, warm-up included. */
  acked: () => number;
  /** Acknowledged tickets after the warm-up. */
  measured: () => number;
  /** Latencies (ms) of the acknowledged tickets, and when the last one came. */
  latencies: () => number[];
  /** The same split by the ticket's channel (titles registered with `mail`). */
  latenciesOf: (channel: 'mail' | 'rest') => number[];
  /** Each acknowledged ticket's submit time and latency (ms), in order of acknowledgement. */
  timeline: () => { sentAt: number; ms: number }[];
  /**
   * Per hop, the time between consecutive events of a ticket (record timestamps, set by
   * the producing app): submit → created, created → categorized, categorized → routed,
   * routed → acknowledged.
   */
  hops: () => Map<string, number[]>;
  firstSentAt: () => number;
  lastAckAt: () => number;
  stop(): Promise<void>;
}

export async function watchAcks(brokers: string[]): Promise<AckWatch> {
  const kafka = new Kafka({ clientId: 'bench-acks', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({
    groupId: `bench-acks-${randomUUID().slice(0, 8)}`,
    minBytes: 256 * 1024,
    maxWaitTimeInMs: 500,
  });
  const sentByTitle = new Map<string, number>();
  const sentById = new Map<string, number>();
  const mailTitles = new Set<string>();
  const mailIds = new Set<string>();
  const warmTitles = new Set<string>();
  const warmIds = new Set<string>();
  let measuredAcks = 0;
  const latencies: number[] = [];
  const byChannel = { mail: [] as number[], rest: [] as number[] };
  const timeline: { sentAt: number; ms: number }[] = [];
  const HOPS = ['ticket.created', 'ticket.categorized', 'ticket.routed'] as const;
  const seen = new Map<string, Partial<Record<string, number>>>();
  const hops = new Map<string, number[]>();
  const hop = (name: string, ms: number, ticketId: string) => {
    if (warmIds.has(ticketId)) return;
    let list = hops.get(name);
    if (!list) hops.set(name, (list = []));
    list.push(ms);
  };
  const done = new Set<string>();
  let first = Infinity;
  let lastAck = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: 'tickets.events', fromBeginning: false });
  let joined!: () => void;
  const isJoined = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const type = m.headers?.['event-type']?.toString() ?? '';
        if (type !== 'ticket.acknowledged' && !HOPS.includes(type as (typeof HOPS)[number]))
          continue;
        const at = Number(m.timestamp);
        // Events are keyed by ticket id: only created (the title) and acknowledged (the
        // template) need their value read.
        const ticketId = m.key!.toString();
        if (type === 'ticket.categorized' || type === 'ticket.routed') {
          const times = seen.get(ticketId);
          if (!times || times[type] !== undefined) continue;
          times[type] = at;
          const before = HOPS[HOPS.indexOf(type) - 1]!;
          if (times[before] !== undefined)
            hop(`${before.slice(7)} → ${type.slice(7)}`, at - times[before], ticketId);
          continue;
        }
        const event = JSON.parse(m.value!.toString()) as {
          ticketId: string;
          payload: { title?: string; template?: string };
        };
        if (type === 'ticket.created') {
          const title = event.payload.title ?? '';
          const sent = sentByTitle.get(title);
          if (sent === undefined) continue;
          sentById.set(event.ticketId, sent);
          if (mailTitles.has(title)) mailIds.add(event.ticketId);
          if (warmTitles.has(title)) warmIds.add(event.ticketId);
          seen.set(event.ticketId, { [type]: at });
          hop(
            `submit → created (${mailTitles.has(title) ? 'mail' : 'rest'})`,
            at - sent,
            event.ticketId,
          );
        } else if (event.payload.template === 'acknowledgement') {
          const sent = sentById.get(event.ticketId);
          if (sent === undefined || done.has(event.ticketId)) continue;
          done.add(event.ticketId);
          timeline.push({ sentAt: sent, ms: at - sent });
          if (warmIds.has(event.ticketId)) continue;
          measuredAcks++;
          latencies.push(at - sent);
          byChannel[mailIds.has(event.ticketId) ? 'mail' : 'rest'].push(at - sent);
          const routed = seen.get(event.ticketId)?.['ticket.routed'];
          if (routed !== undefined) hop('routed → acknowledged', at - routed, event.ticketId);
          lastAck = Math.max(lastAck, at);
        }
      }
    },
  });
  await isJoined;
  await new Promise((r) => setTimeout(r, 1_000));
  return {
    expect: (title, sentAt, channel, warmup) => {
      sentByTitle.set(title, sentAt);
      if (channel === 'mail') mailTitles.add(title);
      if (warmup) warmTitles.add(title);
      else first = Math.min(first, sentAt);
    },
    acked: () => done.size,
    measured: () => measuredAcks,
    latencies: () => latencies,
    latenciesOf: (channel) => byChannel[channel],
    timeline: () => timeline,
    hops: () => hops,
    firstSentAt: () => first,
    lastAckAt: () => lastAck,
    stop: () => consumer.disconnect(),
  };
}
