import { hash, randomBytes, randomFillSync } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CATALOG, type EventType, type PayloadOf } from './schemas.js';

/** The versioned envelope around every record on every topic. */
export const EnvelopeHeader = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String({ minLength: 1 }),
  version: Type.Integer({ minimum: 1 }),
  occurredAt: Type.String({ format: 'date-time' }),
  ticketId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  source: Type.String({ minLength: 1 }),
  correlationId: Type.Optional(Type.String({ maxLength: 200 })),
});

export type Envelope<T extends EventType = EventType> = Omit<
  Static<typeof EnvelopeHeader>,
  'type'
> & {
  type: T;
  payload: PayloadOf<T>;
};

/** A record that fails its schema: never retried, dead-lettered with this reason. */
export class EventValidationError extends Error {
  readonly code = 'EVENT_INVALID';
  readonly retriable = false;
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'EventValidationError';
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
/** One Ajv for the project: the API and the consumers validate with the same rules. */
export const ajv = addFormats(
  new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: false }),
);

const validators = new Map<string, ValidateFunction>();
function validatorFor(type: EventType): ValidateFunction {
  let v = validators.get(type);
  if (!v) {
    const schema = Type.Composite(
      [EnvelopeHeader, Type.Object({ payload: CATALOG[type].schema })],
      {
        additionalProperties: false,
      },
    );
    v = ajv.compile(schema);
    validators.set(type, v);
  }
  return v;
}

// The envelope around any object payload: for producers whose payload was validated a
// moment before against the schema it came from (see EncodeOptions).
const validateHeaderOnly = ajv.compile(
  Type.Composite([EnvelopeHeader, Type.Object({ payload: Type.Object({}) })], {
    additionalProperties: false,
  }),
);

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const field =
      e.instancePath || (e.params as { missingProperty?: string }).missingProperty || '(root)';
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return `${field}: ${e.message ?? 'invalid'}${extra ? ` (${extra})` : ''}`;
  });
}

/** Throws EventValidationError unless `value` is a valid envelope of a known type. */
export function validateEnvelope(value: unknown): Envelope {
  if (typeof value !== 'object' || value === null)
    throw new EventValidationError('record is not a JSON object');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !(type in CATALOG)) {
    throw new EventValidationError(`unknown record type ${JSON.stringify(type)}`);
  }
  const validate = validatorFor(type as EventType);
  if (!validate(value)) {
    const details = describeErrors(validate.errors);
    throw new EventValidationError(`invalid ${type}: ${details.slice(0, 5).join('; ')}`, details);
  }
  return value as Envelope;
}

/** RFC 4122 version 5 (name-based, SHA-1): the same parts always give the same id. */
export function deterministicId(...parts: string[]): string {
  // SHA-1 as hex, then the version (5) and variant (10xx) bits of an RFC 4122 UUID set
  // on the digits: byte 6's high nibble is digit 12, byte 8's is digit 16.
  const h = hash('sha1', `mailroom\u0000${parts.join('\u0000')}`);
  const variant = '89ab'[parseInt(h[16]!, 16) & 3]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface MakeEventOptions<T extends EventType> {
  ticketId: string | null;
  source: string;
  payload: PayloadOf<T>;
  /** Deterministic ids make re-emitting after a crash harmless: consumers dedupe on id. */
  id?: string;
  occurredAt?: string;
  correlationId?: string;
}

export function makeEvent<T extends EventType>(type: T, options: MakeEventOptions<T>): Envelope<T> {
  // Built field by field (a spread into a literal takes a slow path in V8), in the order
  // of the envelope: id, type, version, occurredAt, ticketId, source, correlationId, payload.
  const event = {
    id: options.id ?? deterministicId('random', randomBytes(16).toString('hex')),
    type,
    version: CATALOG[type].version,
    occurredAt: options.occurredAt ?? new Date().toISOString(),
    ticketId: options.ticketId,
    source: options.source,
  } as Envelope<T>;
  if (options.correlationId) event.correlationId = options.correlationId;
  event.payload = options.payload;
  return event;
}

// Trace and span ids need no fresh call into the CSPRNG each: they are drawn from a pool
// refilled 4 KiB at a time (one randomBytes per record cost more than the rest of encoding).
const randomPool = Buffer.allocUnsafe(4096);
let randomOffset = randomPool.length;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}

/** W3C traceparent for a new trace (or a child of the given one). */
export function traceparent(parent?: string): string {
  const traceId = parent?.split('-')[1] ?? randomHex(16);
  return `00-${traceId}-${randomHex(8)}-01`;
}

export interface EncodedRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface EncodeOptions {
  /**
   * The caller validated the payload against its schema a moment ago (intake's request
   * body validator is compiled from the same schema, and the fields it adds are its
   * own): only the envelope around the payload is checked, not the payload once more.
   */
  payloadValidated?: boolean;
  /**
   * The record was built by typed code that bounds every field its schema bounds, and
   * a test holds that code to the schema (imap-poller's build-record.test.ts): no
   * validation pass at all. Callers that cannot vouch for a record leave this unset.
   */
  trusted?: boolean;
}

/** Validates (producers validate before send) and serializes with type/trace headers. */
export function encodeEvent(
  event: Envelope,
  key: string,
  parentTrace?: string,
  options?: EncodeOptions,
): EncodedRecord {
  if (options?.payloadValidated && !options.trusted) {
    if (!(event.type in CATALOG) || !validateHeaderOnly(event)) {
      const details = describeErrors(validateHeaderOnly.errors);
      throw new EventValidationError(`invalid ${event.type} envelope: ${details.join('; ')}`);
    }
  } else if (!options?.trusted) {
    validateEnvelope(event);
  }
  return {
    key,
    value: JSON.stringify(event),
    headers: {
      'event-type': event.type,
      'event-version': String(event.version),
      'content-type': 'application/json',
      traceparent: traceparent(parentTrace),
    },
  };
}

/** Parses and validates a consumed record; throws EventValidationError with the reason. */
export function decodeEvent(value: Buffer | null): Envelope {
  if (!value || value.length === 0) throw new EventValidationError('empty record');
  const text = value.toString('utf8');
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(value)) {
    throw new EventValidationError('record is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EventValidationError(`record is not JSON: ${(err as Error).message}`);
  }
  return validateEnvelope(parsed);
}
