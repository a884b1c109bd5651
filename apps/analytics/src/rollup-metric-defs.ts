import { CONFIDENCE_BUCKETS, DURATION_BUCKETS, LATENCY_BUCKETS } from './buckets.js';
import type { Row } from './rollup-snapshot.js';
import { histogram, sumBy, type RollupMetric } from './rollup-metrics.js';

// Every series analytics exposes. Labels stay low-cardinality: taxonomy names, statuses,
// methods, models; never ticket ids or people.

const OPEN = new Set(['pending', 'in_progress']);
const onlyMetric = (rows: Row[], metric: string) => rows.filter((r) => r.metric === metric);

const durationHistogram = (metric: string, name: string, what: string): RollupMetric => ({
  name,
  help: `${what}, by department and priority (first occurrence per ticket, seconds).`,
  type: 'histogram',
  samples: (s) =>
    histogram(
      name,
      onlyMetric(s.durationBuckets, metric),
      ['department', 'priority'],
      DURATION_BUCKETS,
      'observations',
      { rows: onlyMetric(s.durationTotals, metric), count: 'observations', sum: 'sum_seconds' },
    ),
});

export const ROLLUP_METRICS: readonly RollupMetric[] = [
  {
    name: 'mailroom_tickets_created',
    help: 'Tickets created, by their current department, category, priority and channel (moves when a ticket is rerouted or recategorized, so a gauge: use delta(), not rate()).',
    type: 'gauge',
    samples: (s) => sumBy(s.states, ['department', 'category', 'priority', 'channel'], 'tickets'),
  },
  {
    name: 'mailroom_tickets',
    help: 'Tickets by current department, priority and status.',
    type: 'gauge',
    samples: (s) => sumBy(s.states, ['department', 'priority', 'status'], 'tickets'),
  },
  {
    name: 'mailroom_backlog_tickets',
    help: 'Open tickets (pending or in progress) by department and priority.',
    type: 'gauge',
    samples: (s) =>
      sumBy(
        s.states.map((r) => (OPEN.has(String(r.status)) ? r : { ...r, tickets: 0 })),
        ['department', 'priority'],
        'tickets',
      ),
  },
  {
    name: 'mailroom_ticket_status_transitions_total',
    help: 'Status changes of tickets, by from and to status.',
    type: 'counter',
    samples: (s) => sumBy(s.transitions, ['from_status', 'to_status'], 'transitions'),
  },
  durationHistogram(
    'ack',
    'mailroom_time_to_ack_seconds',
    'Time from ticket creation to the acknowledgement mail',
  ),
  durationHistogram(
    'first_response',
    'mailroom_time_to_first_response_seconds',
    'Time from ticket creation to the first agent reply or agent status change',
  ),
  durationHistogram(
    'resolution',
    'mailroom_time_to_resolution_seconds',
    'Time from ticket creation to resolved (or closed)',
  ),
  {
    name: 'mailroom_routed_tickets_total',
    help: 'Tickets by the department they were first routed to, and whether the router (auto) or a person (manual) decided.',
    type: 'counter',
    samples: (s) => sumBy(s.routing, ['department', 'mode'], 'routed'),
  },
  {
    name: 'mailroom_misrouted_tickets_total',
    help: 'Tickets later rerouted away from the department they were first routed to (routing accuracy = 1 - misrouted / routed).',
    type: 'counter',
    samples: (s) => sumBy(s.routing, ['department', 'mode'], 'rerouted_away'),
  },
  {
    name: 'mailroom_reroutes_total',
    help: 'Reroutes, by source and target department and who decided (agent or system).',
    type: 'counter',
    samples: (s) =>
      sumBy(s.reroutes, ['from_department', 'to_department', 'actor_type'], 'reroutes'),
  },
  {
    name: 'mailroom_categorization_confidence',
    help: 'Confidence of categorizations, by method and suggested department.',
    type: 'histogram',
    samples: (s) =>
      histogram(
        'mailroom_categorization_confidence',
        s.categorizations,
        ['method', 'department'],
        CONFIDENCE_BUCKETS,
        'categorizations',
        { rows: s.categorizations, count: 'categorizations', sum: 'confidence_sum' },
      ),
  },
  {
    name: 'mailroom_categorizations_needing_review_total',
    help: 'Categorizations flagged for human review, by method.',
    type: 'counter',
    samples: (s) => sumBy(s.categorizations, ['method'], 'needs_review'),
  },
  {
    name: 'mailroom_categorization_latency_seconds',
    help: 'Classifier latency reported by ticket.categorized events, by method and model.',
    type: 'histogram',
    samples: (s) =>
      histogram(
        'mailroom_categorization_latency_seconds',
        s.llmLatency,
        ['method', 'model'],
        LATENCY_BUCKETS,
        'calls',
        { rows: s.llmUsage, count: 'calls', sum: 'latency_sum_seconds' },
      ),
  },
  {
    name: 'mailroom_categorization_tokens_total',
    help: 'LLM tokens of categorizations, by method, model and kind (input, output, cache_read, cache_write).',
    type: 'counter',
    samples: (s) =>
      (
        [
          ['input', 'input_tokens'],
          ['output', 'output_tokens'],
          ['cache_read', 'cache_read_tokens'],
          ['cache_write', 'cache_write_tokens'],
        ] as const
      ).flatMap(([kind, col]) =>
        sumBy(s.llmUsage, ['method', 'model'], col).map((x) => ({
          labels: { ...x.labels, kind },
          value: x.value,
        })),
      ),
  },
  {
    name: 'mailroom_categorization_cost_usd_total',
    help: 'Cost of categorizations in USD (tokens × list price of the model), by method and model.',
    type: 'counter',
    samples: (s) => sumBy(s.llmUsage, ['method', 'model'], 'cost_usd'),
  },
];
