import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  Actor,
  AttachmentRef,
  Channel,
  DateTime,
  Email,
  Hints,
  Person,
  Priority,
  TaxonomyName,
  TicketStatus,
  Uuid,
} from './common.js';

const Obj = <T extends Parameters<typeof Type.Object>[0]>(props: T) =>
  Type.Object(props, { additionalProperties: false });

// ---- tickets.raw: untrusted input -------------------------------------------------

export const ApiSubmission = Obj({
  submissionId: Uuid,
  title: Type.String({ minLength: 1, maxLength: 500 }),
  description: Type.String({ minLength: 1, maxLength: 100_000 }),
  requester: Person,
  hints: Type.Optional(Hints),
  attachments: Type.Optional(Type.Array(AttachmentRef, { maxItems: 50 })),
  apiKeyId: Type.Optional(Type.String({ maxLength: 100 })),
  receivedAt: DateTime,
});
export type ApiSubmission = Static<typeof ApiSubmission>;

export const EmailReceived = Obj({
  mailbox: Type.String({ minLength: 1, maxLength: 320 }),
  uidValidity: Type.Optional(Type.String({ maxLength: 40 })),
  uid: Type.Optional(Type.Integer({ minimum: 0 })),
  messageId: Type.String({ minLength: 1, maxLength: 998 }),
  inReplyTo: Type.Optional(Type.String({ maxLength: 998 })),
  references: Type.Array(Type.String({ maxLength: 998 }), { maxItems: 200 }),
  from: Person,
  to: Type.Array(Person, { maxItems: 200 }),
  cc: Type.Array(Person, { maxItems: 200 }),
  subject: Type.String({ maxLength: 2000 }),
  text: Type.String({ maxLength: 1_000_000 }),
  replyText: Type.String({ maxLength: 1_000_000 }),
  date: Type.Optional(DateTime),
  attachments: Type.Array(AttachmentRef, { maxItems: 200 }),
  rawBlobId: Type.Optional(Type.String({ maxLength: 200 })),
  automated: Obj({
    automated: Type.Boolean(),
    kind: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
  }),
  threadHints: Obj({
    replyToken: Type.Optional(Type.String({ maxLength: 200 })),
    subjectTicketNumber: Type.Optional(Type.Integer({ minimum: 1 })),
  }),
  statusCommand: Type.Optional(
    Obj({ status: TicketStatus, authorized: Type.Boolean(), reason: Type.String() }),
  ),
  problems: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 50 }),
  receivedAt: DateTime,
  /** Size of the raw message in bytes (RFC822.SIZE). */
  size: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The Authentication-Results headers as received (DKIM/SPF/DMARC verdicts of the MTA). */
  authenticationResults: Type.Optional(
    Type.Array(Type.String({ maxLength: 4000 }), { maxItems: 20 }),
  ),
  /** For bounces: the recipients the report says could not be reached. */
  bouncedRecipients: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 })),
  /** Set when the message exceeded the poller's size cap: only its start was parsed. */
  oversized: Type.Optional(
    Obj({ limit: Type.Integer({ minimum: 0 }), size: Type.Integer({ minimum: 0 }) }),
  ),
});
export type EmailReceived = Static<typeof EmailReceived>;

// ---- tickets.commands ----------------------------------------------------------------

export const TicketChanges = Obj({
  status: Type.Optional(TicketStatus),
  priority: Type.Optional(Priority),
  category: Type.Optional(TaxonomyName),
  assignee: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 320 }), Type.Null()])),
});
export type TicketChanges = Static<typeof TicketChanges>;

export const UpdateTicket = Obj({
  commandId: Uuid,
  changes: TicketChanges,
  actor: Actor,
  reason: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type UpdateTicket = Static<typeof UpdateTicket>;

export const RouteTicket = Obj({
  commandId: Uuid,
  department: TaxonomyName,
  actor: Actor,
  reason: Type.String({ minLength: 1, maxLength: 2000 }),
});
export type RouteTicket = Static<typeof RouteTicket>;

// ---- tickets.events: the lifecycle -----------------------------------------------------

export const TicketCreated = Obj({
  number: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  description: Type.String(),
  requester: Person,
  channel: Channel,
  status: TicketStatus,
  hints: Type.Optional(Hints),
  attachments: Type.Array(AttachmentRef),
  messageId: Type.Optional(Type.String()),
  automated: Type.Optional(Type.Boolean()),
  createdAt: DateTime,
  receivedAt: DateTime,
});
export type TicketCreated = Static<typeof TicketCreated>;

export const TicketCategorized = Obj({
  department: TaxonomyName,
  category: TaxonomyName,
  priority: Priority,
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  method: Type.Union([
    Type.Literal('llm'),
    Type.Literal('local'),
    Type.Literal('rules'),
    Type.Literal('human'),
  ]),
  model: Type.String(),
  promptVersion: Type.Optional(Type.String()),
  latencyMs: Type.Number({ minimum: 0 }),
  tokens: Type.Optional(
    Obj({
      input: Type.Integer(),
      output: Type.Integer(),
      cacheRead: Type.Integer(),
      cacheWrite: Type.Integer(),
    }),
  ),
  needsReview: Type.Boolean(),
  fallbackReason: Type.Optional(Type.String()),
});
export type TicketCategorized = Static<typeof TicketCategorized>;

export const TicketRouted = Obj({
  department: TaxonomyName,
  priority: Priority,
  rule: Type.String(),
  confidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  decidedBy: Type.String(),
  requester: Person,
  number: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  messageId: Type.Optional(Type.String()),
});
export type TicketRouted = Static<typeof TicketRouted>;

export const TicketRerouted = Obj({
  from: Type.Union([TaxonomyName, Type.Null()]),
  to: TaxonomyName,
  reason: Type.String(),
  actor: Actor,
  commandId: Uuid,
});
export type TicketRerouted = Static<typeof TicketRerouted>;

export const TicketAcknowledged = Obj({
  template: Type.String(),
  to: Email,
  messageId: Type.String(),
  sentAt: DateTime,
});
export type TicketAcknowledged = Static<typeof TicketAcknowledged>;

export const TicketMessageAdded = Obj({
  messageRowId: Uuid,
  author: Person,
  role: Type.Union([
    Type.Literal('requester'),
    Type.Literal('agent'),
    Type.Literal('cc'),
    Type.Literal('unknown'),
  ]),
  text: Type.String(),
  automatedKind: Type.Optional(Type.String()),
  channel: Channel,
});
export type TicketMessageAdded = Static<typeof TicketMessageAdded>;

export const TicketStatusChanged = Obj({
  from: TicketStatus,
  to: TicketStatus,
  actor: Actor,
  reason: Type.Optional(Type.String()),
  number: Type.Integer({ minimum: 1 }),
  requester: Person,
  title: Type.String(),
});
export type TicketStatusChanged = Static<typeof TicketStatusChanged>;

export const TicketUpdated = Obj({
  changes: TicketChanges,
  actor: Actor,
  commandId: Uuid,
});
export type TicketUpdated = Static<typeof TicketUpdated>;

export const CommandRejected = Obj({
  commandId: Uuid,
  code: Type.String(),
  reason: Type.String(),
});
export type CommandRejected = Static<typeof CommandRejected>;

/** Every record type, by topic, with its payload schema and current version. */
export const CATALOG = {
  'raw.api_submission': { topic: 'tickets.raw', version: 1, schema: ApiSubmission },
  'raw.email_received': { topic: 'tickets.raw', version: 1, schema: EmailReceived },
  'command.update_ticket': { topic: 'tickets.commands', version: 1, schema: UpdateTicket },
  'command.route_ticket': { topic: 'tickets.commands', version: 1, schema: RouteTicket },
  'ticket.created': { topic: 'tickets.events', version: 1, schema: TicketCreated },
  'ticket.categorized': { topic: 'tickets.events', version: 1, schema: TicketCategorized },
  'ticket.routed': { topic: 'tickets.events', version: 1, schema: TicketRouted },
  'ticket.rerouted': { topic: 'tickets.events', version: 1, schema: TicketRerouted },
  'ticket.acknowledged': { topic: 'tickets.events', version: 1, schema: TicketAcknowledged },
  'ticket.message_added': { topic: 'tickets.events', version: 1, schema: TicketMessageAdded },
  'ticket.status_changed': { topic: 'tickets.events', version: 1, schema: TicketStatusChanged },
  'ticket.updated': { topic: 'tickets.events', version: 1, schema: TicketUpdated },
  'ticket.command_rejected': { topic: 'tickets.events', version: 1, schema: CommandRejected },
} as const satisfies Record<string, { topic: string; version: number; schema: TSchema }>;

export type EventType = keyof typeof CATALOG;
export type PayloadOf<T extends EventType> = Static<(typeof CATALOG)[T]['schema']>;
