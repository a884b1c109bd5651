import { Type, type Static } from '@sinclair/typebox';
import {
  ApiSubmission,
  AttachmentRef,
  Channel,
  DateTime,
  Hints,
  Priority,
  TaxonomyName,
  TicketChanges,
  TicketStatus,
  Uuid,
} from '@mailroom/events';

// HTTP shapes, built from the event schemas of libs/events (one source of truth): what
// the API accepts is exactly what the consumers will accept, and the OpenAPI document
// is generated from these.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

/** POST /api/tickets: an API submission without the fields the server sets. */
export const TicketSubmission = Type.Omit(
  ApiSubmission,
  ['submissionId', 'apiKeyId', 'receivedAt'],
  {
    additionalProperties: false,
    description: 'A new ticket. Unknown fields are refused.',
  },
);
export type TicketSubmission = Static<typeof TicketSubmission>;

export const TicketAccepted = Type.Object({
  id: Uuid,
  number: Type.Null({ description: 'assigned by ticket-store; see statusUrl' }),
  status: Type.Literal('accepted'),
  statusUrl: Type.String(),
});

export const TicketIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'ticket uuid or number' }),
});

export const Requester = Type.Object({ email: Type.String(), name: Nullable(Type.String()) });

export const TicketSummary = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  title: Type.String(),
  status: TicketStatus,
  priority: Nullable(Priority),
  category: Nullable(Type.String()),
  department: Nullable(Type.String()),
  assignee: Nullable(Type.String()),
  requester: Requester,
  channel: Channel,
  needsReview: Type.Boolean(),
  /** How the ticket was categorized (llm, local, rules, human) and how sure it was. */
  categorizationMethod: Nullable(Type.String()),
  confidence: Nullable(Type.Number()),
  createdAt: DateTime,
  updatedAt: DateTime,
  routedAt: Nullable(DateTime),
});
export type TicketSummary = Static<typeof TicketSummary>;

export const TicketMessage = Type.Object({
  id: Uuid,
  direction: Type.String(),
  author: Requester,
  role: Type.String(),
  subject: Nullable(Type.String()),
  text: Type.String(),
  replyText: Type.String(),
  messageId: Nullable(Type.String()),
  automatedKind: Nullable(Type.String()),
  createdAt: DateTime,
});

export const StatusChange = Type.Object({
  eventId: Uuid,
  from: Type.String(),
  to: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.String() }),
  reason: Nullable(Type.String()),
  at: DateTime,
});

export const RoutingEntry = Type.Object({
  eventId: Uuid,
  ticketId: Uuid,
  kind: Type.String(),
  department: Type.String(),
  previousDepartment: Nullable(Type.String()),
  rule: Type.String(),
  confidence: Nullable(Type.Number()),
  decidedBy: Type.String(),
  reason: Nullable(Type.String()),
  at: DateTime,
});
export type RoutingEntry = Static<typeof RoutingEntry>;

export const TicketDetail = Type.Composite([
  TicketSummary,
  Type.Object({
    description: Type.String(),
    hints: Hints,
    attachments: Type.Array(AttachmentRef),
    categorization: Nullable(Type.Object({}, { additionalProperties: true })),
    categorizedAt: Nullable(DateTime),
    acknowledgedAt: Nullable(DateTime),
    resolvedAt: Nullable(DateTime),
    closedAt: Nullable(DateTime),
    messages: Type.Array(TicketMessage),
    statusHistory: Type.Array(StatusChange),
    routingHistory: Type.Array(RoutingEntry),
  }),
]);
export type TicketDetail = Static<typeof TicketDetail>;

export const SORTS = ['created_at_desc', 'created_at_asc', 'priority'] as const;
export type Sort = (typeof SORTS)[number];

const many = <T extends Parameters<typeof Type.Array>[0]>(t: T, description: string) =>
  Type.Optional(Type.Array(t, { maxItems: 20, description }));

export const TicketListQuery = Type.Object(
  {
    status: many(TicketStatus, 'one or more statuses (repeat the parameter)'),
    department: many(TaxonomyName, 'one or more departments'),
    category: many(TaxonomyName, 'one or more categories'),
    priority: many(Priority, 'one or more priorities'),
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 500, description: 'full text (web search syntax)' }),
    ),
    requester: Type.Optional(Type.String({ maxLength: 320, description: 'requester email' })),
    created_from: Type.Optional(DateTime),
    created_to: Type.Optional(DateTime),
    sort: Type.Optional(
      Type.Union(
        SORTS.map((s) => Type.Literal(s)),
        { default: 'created_at_desc' },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 500, description: 'nextCursor of a page' })),
  },
  { additionalProperties: false },
);
export type TicketListQuery = Static<typeof TicketListQuery>;

export const TicketList = Type.Object({
  items: Type.Array(TicketSummary),
  nextCursor: Nullable(Type.String()),
});

export const TicketPatch = Type.Composite(
  [
    TicketChanges,
    Type.Object({
      department: Type.Optional(TaxonomyName),
      reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    }),
  ],
  { additionalProperties: false, minProperties: 1 },
);
export type TicketPatch = Static<typeof TicketPatch>;

export const StatusChangeBody = Type.Object(
  { status: TicketStatus, reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
  { additionalProperties: false },
);

export const CommandAccepted = Type.Object({
  commandId: Uuid,
  commandIds: Type.Array(Uuid),
  statusUrl: Type.String(),
  ticketUrl: Type.String(),
});

export const CommandStatus = Type.Object({
  commandId: Uuid,
  ticketId: Nullable(Uuid),
  outcome: Type.Union([Type.Literal('pending'), Type.Literal('applied'), Type.Literal('rejected')]),
  kind: Nullable(Type.String()),
  code: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  at: Nullable(DateTime),
});

export const RouteBody = Type.Object(
  {
    ticketId: Type.String({ minLength: 1, maxLength: 64, description: 'ticket uuid or number' }),
    department: TaxonomyName,
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);
export const RerouteBody = Type.Omit(RouteBody, ['ticketId'], { additionalProperties: false });

export const Department = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  openTickets: Type.Integer(),
});

export const DepartmentStats = Type.Object({
  department: Type.String(),
  routed: Type.Integer({ description: 'first routings to this department' }),
  reroutedIn: Type.Integer({ description: 'reroutes to this department' }),
  reroutedOut: Type.Integer({ description: 'reroutes away from this department' }),
  averageConfidence: Nullable(Type.Number()),
  rerouteRate: Nullable(Type.Number({ description: 'reroutedOut / routed' })),
});

export const ClassifyBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    description: Type.String({ minLength: 1, maxLength: 100_000 }),
  },
  { additionalProperties: false },
);
export type ClassifyBody = Static<typeof ClassifyBody>;
