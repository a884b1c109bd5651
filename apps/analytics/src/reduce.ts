import type { Envelope, EventType, PayloadOf } from '@mailroom/events';
import {
  CONFIDENCE_BUCKETS,
  DURATION_BUCKETS,
  LATENCY_BUCKETS,
  UNKNOWN,
  bucketOf,
  type DurationMetric,
} from './buckets.js';
import { costUsd, type PriceTable } from './pricing.js';
import type { Delta } from './rollup-tables.js';

/** What analytics knows about one ticket, carried by its events (analytics_tickets). */
export interface TicketFacts {
  createdAt: string | null;
  channel: string | null;
  department: string | null;
  category: string | null;
  priority: string | null;
  status: string | null;
  /** Counted in the volume and state rollups (from ticket.created on). */
  counted: boolean;
  routedDepartment: string | null;
  routedMode: 'auto' | 'manual' | null;
  rerouted: boolean;
  acknowledgedAt: string | null;
  firstResponseAt: string | null;
  resolvedAt: string | null;
}

export const EMPTY_FACTS: TicketFacts = {
  createdAt: null,
  channel: null,
  department: null,
  category: null,
  priority: null,
  status: null,
  counted: false,
  routedDepartment: null,
  routedMode: null,
  rerouted: false,
  acknowledgedAt: null,
  firstResponseAt: null,
  resolvedAt: null,
};

export interface Reduced {
  facts: TicketFacts;
  deltas: Delta[];
}

let lastHour = { of: '', is: '' };
/** Start of the UTC hour of an ISO timestamp, as ISO text. */
export function hourOf(iso: string): string {
  // The same creation time comes twice per event (the cell before and after it).
  if (lastHour.of === iso) return lastHour.is;
  const ms = Date.parse(iso);
  const is = new Date(ms - (((ms % 3_600_000) + 3_600_000) % 3_600_000)).toISOString();
  lastHour = { of: iso, is };
  return is;
}

const secondsBetween = (from: string, to: string) =>
  Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

/**
 * A routing decided by a person (a manual route command) rather than the router's rules.
 * The router writes the deciding actor into `decidedBy`: a rule engine name for automatic
 * decisions, the agent (an address or `agent:`/`manual`/`human`) for manual ones.
 */
export function isManualRouting(p: PayloadOf<'ticket.routed'>): boolean {
  return /^(manual|human|agent)\b|@/i.test(p.decidedBy) || /^manual\b/i.test(p.rule);
}

function cells(f: TicketFacts) {
  return {
    department: f.department ?? UNKNOWN.department,
    category: f.category ?? UNKNOWN.category,
    priority: f.priority ?? UNKNOWN.priority,
    channel: f.channel ?? UNKNOWN.channel,
  };
}

/**
 * Counts in the volume and state rollups follow the ticket: −1 in the cell it was in,
 * +1 in the cell it is in now. A ticket is thus counted once, with its latest
 * dimensions, whatever order its categorization and routing arrive in.
 */
function moveDeltas(before: TicketFacts, after: TicketFacts): Delta[] {
  const counted = (f: TicketFacts) => f.counted && f.createdAt !== null;
  // Most events leave the ticket in its cells (an acknowledgement): −1 and +1 in the same
  // row would cancel out anyway.
  if (
    counted(before) &&
    counted(after) &&
    before.createdAt === after.createdAt &&
    before.department === after.department &&
    before.category === after.category &&
    before.priority === after.priority &&
    before.channel === after.channel &&
    before.status === after.status
  )
    return [];
  const out: Delta[] = [];
  const place = (f: TicketFacts, sign: number) => {
    if (!counted(f)) return;
    const c = cells(f);
    out.push({
      table: 'analytics_ticket_volume',
      key: { hour: hourOf(f.createdAt!), ...c },
      add: { tickets: sign },
    });
    out.push({
      table: 'analytics_ticket_states',
      key: { ...c, status: f.status ?? 'pending' },
      add: { tickets: sign },
    });
  };
  place(before, -1);
  place(after, +1);
  return out;
}

function duration(metric: DurationMetric, f: TicketFacts, seconds: number): Delta[] {
  const { department, priority } = cells(f);
  return [
    {
      table: 'analytics_duration_buckets',
      key: { metric, department, priority, le: bucketOf(DURATION_BUCKETS, seconds) },
      add: { observations: 1 },
    },
    {
      table: 'analytics_duration_totals',
      key: { metric, department, priority },
      add: { observations: 1, sum_seconds: seconds },
    },
  ];
}

type Handler<T extends EventType> = (
  f: TicketFacts,
  p: PayloadOf<T>,
  e: Envelope<T>,
  prices: PriceTable,
) => Delta[];

const firstResponse = (f: TicketFacts, at: string): Delta[] => {
  if (f.firstResponseAt) return [];
  f.firstResponseAt = at;
  return f.createdAt ? duration('first_response', f, secondsBetween(f.createdAt, at)) : [];
};

// Each handler mutates the copy of the facts it is given and returns the other deltas.
const HANDLERS: { [T in EventType]?: Handler<T> } = {
  'ticket.created': (f, p) => {
    f.createdAt = p.createdAt;
    f.channel = p.channel;
    f.status ??= p.status;
    f.priority ??= p.hints?.priority ?? null;
    f.counted = true;
    return [];
  },
  'ticket.categorized': (f, p, _e, prices): Delta[] => {
    f.category = p.category;
    f.priority ??= p.priority; // as ticket-store: a requester's or agent's priority wins
    const latency = p.latencyMs / 1000;
    const tokens = p.tokens ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    return [
      {
        table: 'analytics_categorizations',
        key: {
          method: p.method,
          department: p.department,
          confidence_le: bucketOf(CONFIDENCE_BUCKETS, p.confidence),
        },
        add: {
          categorizations: 1,
          confidence_sum: p.confidence,
          needs_review: p.needsReview ? 1 : 0,
        },
      },
      {
        table: 'analytics_llm_usage',
        key: { method: p.method, model: p.model },
        add: {
          calls: 1,
          latency_sum_seconds: latency,
          input_tokens: tokens.input,
          output_tokens: tokens.output,
          cache_read_tokens: tokens.cacheRead,
          cache_write_tokens: tokens.cacheWrite,
          cost_usd: costUsd(p.model, p.tokens, prices),
        },
      },
      {
        table: 'analytics_llm_latency_buckets',
        key: { method: p.method, model: p.model, le: bucketOf(LATENCY_BUCKETS, latency) },
        add: { calls: 1 },
      },
    ];
  },
  'ticket.routed': (f, p) => {
    if (f.routedDepartment) return []; // routed once; later moves are reroutes
    f.department = p.department;
    f.priority = p.priority;
    f.routedDepartment = p.department;
    f.routedMode = isManualRouting(p) ? 'manual' : 'auto';
    return [
      {
        table: 'analytics_routing',
        key: { department: p.department, mode: f.routedMode },
        add: { routed: 1, confidence_sum: p.confidence ?? 0 },
      },
    ];
  },
  'ticket.rerouted': (f, p) => {
    const from = p.from ?? f.department ?? UNKNOWN.department;
    f.department = p.to;
    const out: Delta[] = [
      {
        table: 'analytics_reroutes',
        key: { from_department: from, to_department: p.to, actor_type: p.actor.type },
        add: { reroutes: 1 },
      },
    ];
    // Accuracy counts a ticket once: its first move away from where it was first routed.
    if (f.routedDepartment && f.routedMode && !f.rerouted && p.to !== f.routedDepartment) {
      f.rerouted = true;
      out.push({
        table: 'analytics_routing',
        key: { department: f.routedDepartment, mode: f.routedMode },
        add: { rerouted_away: 1 },
      });
    }
    return out;
  },
  'ticket.acknowledged': (f, p) => {
    if (f.acknowledgedAt) return [];
    f.acknowledgedAt = p.sentAt;
    return f.createdAt ? duration('ack', f, secondsBetween(f.createdAt, p.sentAt)) : [];
  },
  'ticket.message_added': (f, p, e) => (p.role === 'agent' ? firstResponse(f, e.occurredAt) : []),
  'ticket.status_changed': (f, p, e) => {
    f.status = p.to;
    const out: Delta[] = [
      {
        table: 'analytics_status_transitions',
        key: {
          hour: hourOf(e.occurredAt),
          department: f.department ?? UNKNOWN.department,
          from_status: p.from,
          to_status: p.to,
        },
        add: { transitions: 1 },
      },
    ];
    // An agent taking or answering the ticket is its first response.
    if (p.actor.type === 'agent') out.push(...firstResponse(f, e.occurredAt));
    if ((p.to === 'resolved' || p.to === 'closed') && !f.resolvedAt) {
      f.resolvedAt = e.occurredAt;
      if (f.createdAt)
        out.push(...duration('resolution', f, secondsBetween(f.createdAt, e.occurredAt)));
    }
    return out;
  },
  'ticket.updated': (f, p) => {
    if (p.changes.priority) f.priority = p.changes.priority;
    if (p.changes.category) f.category = p.changes.category;
    return [];
  },
};

/** Event types that change facts or rollups; analytics skips the others by their header. */
export const ROLLED_UP_TYPES: ReadonlySet<string> = new Set(Object.keys(HANDLERS));

/** The pure heart of analytics: a ticket's facts and one of its events → new facts + deltas. */
export function reduce(before: TicketFacts, event: Envelope, prices: PriceTable): Reduced {
  const facts: TicketFacts = { ...before };
  const handler = HANDLERS[event.type] as Handler<EventType> | undefined;
  const deltas = handler ? handler(facts, event.payload, event, prices) : [];
  return { facts, deltas: [...deltas, ...moveDeltas(before, facts)] };
}
