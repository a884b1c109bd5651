import { Type, type Static } from '@sinclair/typebox';

// Building blocks shared by the event schemas and the HTTP API (one source of truth).

export const TicketStatus = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('in_progress'),
    Type.Literal('resolved'),
    Type.Literal('closed'),
  ],
  { description: 'pending → in_progress → resolved → closed; a reply reopens a resolved ticket' },
);
export type TicketStatus = Static<typeof TicketStatus>;
export const TICKET_STATUSES: TicketStatus[] = ['pending', 'in_progress', 'resolved', 'closed'];

export const Priority = Type.Union([
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);
export type Priority = Static<typeof Priority>;

export const Channel = Type.Union([Type.Literal('email'), Type.Literal('api')]);
export type Channel = Static<typeof Channel>;

/** Free-text names from the configurable taxonomy: validated against it by the apps. */
export const TaxonomyName = Type.String({ minLength: 1, maxLength: 100 });

export const Email = Type.String({ format: 'email', maxLength: 320 });

export const Person = Type.Object(
  {
    email: Email,
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type Person = Static<typeof Person>;

export const Actor = Type.Object(
  {
    type: Type.Union([Type.Literal('agent'), Type.Literal('requester'), Type.Literal('system')]),
    id: Type.String({ minLength: 1, maxLength: 320 }),
  },
  { additionalProperties: false },
);
export type Actor = Static<typeof Actor>;

export const AttachmentRef = Type.Object(
  {
    blobId: Type.Optional(
      Type.String({ maxLength: 200, description: 'content address (sha256) in the blob store' }),
    ),
    url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    filename: Type.String({ minLength: 1, maxLength: 255 }),
    contentType: Type.String({ maxLength: 255, default: 'application/octet-stream' }),
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type AttachmentRef = Static<typeof AttachmentRef>;

export const Hints = Type.Object(
  {
    category: Type.Optional(TaxonomyName),
    priority: Type.Optional(Priority),
    department: Type.Optional(TaxonomyName),
  },
  { additionalProperties: false },
);
export type Hints = Static<typeof Hints>;

export const Uuid = Type.String({ format: 'uuid' });
export const DateTime = Type.String({ format: 'date-time' });
