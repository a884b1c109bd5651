/** Topic names: the one list every producer and consumer uses (DESIGN.md, "Flow"). */
export const TOPICS = {
  /** Untrusted input: one record per received email or API submission, keyed by thread key. */
  raw: 'tickets.raw',
  /** The ticket lifecycle log, keyed by ticket id. */
  events: 'tickets.events',
  /** Requests to change a ticket, keyed by ticket id. */
  commands: 'tickets.commands',
} as const;

export const DLQ_TOPICS = {
  raw: 'tickets.raw.dlq',
  events: 'tickets.events.dlq',
  commands: 'tickets.commands.dlq',
} as const;

/** Every topic the project creates, with the DLQs. */
export const ALL_TOPICS = [...Object.values(TOPICS), ...Object.values(DLQ_TOPICS)];
