// Realistic ticket lifecycles as the pipeline emits them on tickets.events (valid
// schemas, deterministic ids), for the analytics tests and the dashboard check.
import { randomUUID } from 'node:crypto';
import {
  deterministicId,
  makeEvent,
  type Envelope,
  type EventType,
  type PayloadOf,
} from '@mailroom/events';

export interface LifecycleOptions {
  ticketId?: string;
  number?: number;
  createdAt: Date;
  channel?: 'email' | 'api';
  department: string;
  category: string;
  priority?: 'low' | 'medium' | 'high' | 'critical';
  method?: 'llm' | 'local';
  confidence?: number;
  /** Reroute to this department after routing (by an agent). */
  rerouteTo?: string;
  ackAfterSeconds?: number;
  firstResponseAfterSeconds?: number;
  /** Resolve after this many seconds (undefined: stays open). */
  resolveAfterSeconds?: number;
}

const requester = { email: 'alice@example.test', name: 'Alice' };
const agent = { type: 'agent' as const, id: 'agent@example.test' };

/** The events of one ticket, in the order the pipeline emits them. */
export function lifecycle(o: LifecycleOptions): Envelope[] {
  const ticketId = o.ticketId ?? randomUUID();
  const number = o.number ?? 1000 + Math.floor(Math.random() * 1e6);
  const at = (s: number) => new Date(o.createdAt.getTime() + s * 1000).toISOString();
  const priority = o.priority ?? 'medium';
  const title = `Ticket about ${o.category}`;
  const ev = <T extends EventType>(type: T, seconds: number, payload: PayloadOf<T>, n = 0) =>
    makeEvent(type, {
      id: deterministicId('test', ticketId, type, String(n)),
      ticketId,
      source: 'analytics-test',
      occurredAt: at(seconds),
      payload,
    }) as Envelope;
  const method = o.method ?? 'llm';
  const out: Envelope[] = [
    ev('ticket.created', 0, {
      number,
      title,
      description: 'It does not work.',
      requester,
      channel: o.channel ?? 'email',
      status: 'pending',
      attachments: [],
      createdAt: at(0),
      receivedAt: at(0),
    }),
    ev('ticket.categorized', 2, {
      department: o.department,
      category: o.category,
      priority,
      confidence: o.confidence ?? 0.87,
      method,
      model: method === 'llm' ? 'claude-3-5-haiku-20241022' : 'local-nb-v1',
      latencyMs: method === 'llm' ? 820 : 4,
      ...(method === 'llm'
        ? { tokens: { input: 1200, output: 90, cacheRead: 900, cacheWrite: 0 } }
        : {}),
      needsReview: (o.confidence ?? 0.87) < 0.5,
    }),
    ev('ticket.routed', 3, {
      department: o.department,
      priority,
      rule: 'category-map',
      confidence: o.confidence ?? 0.87,
      decidedBy: 'router',
      requester,
      number,
      title,
    }),
    ev('ticket.acknowledged', o.ackAfterSeconds ?? 20, {
      template: 'acknowledgement',
      to: requester.email,
      messageId: `<ack-${ticketId}@example.test>`,
      sentAt: at(o.ackAfterSeconds ?? 20),
    }),
  ];
  if (o.rerouteTo) {
    out.push(
      ev('ticket.rerouted', 60, {
        from: o.department,
        to: o.rerouteTo,
        reason: 'wrong team',
        actor: agent,
        commandId: deterministicId('cmd', ticketId, 'reroute'),
      }),
    );
  }
  if (o.firstResponseAfterSeconds !== undefined) {
    out.push(
      ev('ticket.status_changed', o.firstResponseAfterSeconds, {
        from: 'pending',
        to: 'in_progress',
        actor: agent,
        number,
        requester,
        title,
      }),
    );
  }
  if (o.resolveAfterSeconds !== undefined) {
    out.push(
      ev(
        'ticket.status_changed',
        o.resolveAfterSeconds,
        {
          from: o.firstResponseAfterSeconds !== undefined ? 'in_progress' : 'pending',
          to: 'resolved',
          actor: agent,
          number,
          requester,
          title,
        },
        1,
      ),
    );
  }
  return out;
}
