// Follows tickets.events from now on (own group) and times each of our tickets from its
// submission to its ticket.acknowledged: ticket.created maps our titles to ticket ids
// (mail tickets get theirs in ticket-store), ticket.acknowledged closes the clock.
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';

export interface AckWatch {
  /** Register a ticket before it is sent: title → submit time. */
  expect(title: string, sentAt: number): void;
  acked: () => number;
  /** Latencies (ms) of the acknowledged tickets, and when the last one came. */
  latencies: () => number[];
  firstSentAt: () => number;
  lastAckAt: () => number;
  stop(): Promise<void>;
}

export async function watchAcks(brokers: string[]): Promise<AckWatch> {
  const kafka = new Kafka({ clientId: 'bench-acks', brokers, logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `bench-acks-${randomUUID().slice(0, 8)}` });
  const sentByTitle = new Map<string, number>();
  const sentById = new Map<string, number>();
  const latencies: number[] = [];
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
      const now = Date.now();
      for (const m of batch.messages) {
        const type = m.headers?.['event-type']?.toString();
        if (type !== 'ticket.created' && type !== 'ticket.acknowledged') continue;
        const event = JSON.parse(m.value!.toString()) as {
          ticketId: string;
          payload: { title?: string; template?: string };
        };
        if (type === 'ticket.created') {
          const sent = sentByTitle.get(event.payload.title ?? '');
          if (sent !== undefined) sentById.set(event.ticketId, sent);
        } else if (event.payload.template === 'acknowledgement') {
          const sent = sentById.get(event.ticketId);
          if (sent === undefined || done.has(event.ticketId)) continue;
          done.add(event.ticketId);
          latencies.push(now - sent);
          lastAck = now;
        }
      }
    },
  });
  await isJoined;
  await new Promise((r) => setTimeout(r, 1_000));
  return {
    expect: (title, sentAt) => {
      sentByTitle.set(title, sentAt);
      first = Math.min(first, sentAt);
    },
    acked: () => done.size,
    latencies: () => latencies,
    firstSentAt: () => first,
    lastAckAt: () => lastAck,
    stop: () => consumer.disconnect(),
  };
}
