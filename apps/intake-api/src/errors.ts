import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';

/** One field-level problem of a rejected request. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * An error that becomes an HTTP answer: a stable `code` clients can switch on, the
 * status, a `retriable` flag (may the same request succeed later?), optional details.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly options: {
      retriable?: boolean;
      details?: FieldProblem[];
      cause?: unknown;
      /** Sent as Retry-After (429). */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ApiError';
  }
  get retriable(): boolean {
    return this.options.retriable ?? false;
  }
}

export const badRequest = (code: string, message: string, details?: FieldProblem[]) =>
  new ApiError(400, code, message, { details });
export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);

/** The body of every error answer (OpenAPI: the default response of every route). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      retriable: Type.Boolean(),
      details: Type.Optional(
        Type.Array(Type.Object({ field: Type.String(), reason: Type.String() })),
      ),
    }),
  },
  { description: 'Every error: a stable code, a message, retriable' },
);

interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  retriable: boolean;
  details?: FieldProblem[];
}

// Fastify's own errors, mapped to our stable codes.
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
};

// Faults of the world behind us: the client may retry the same request.
const UNAVAILABLE = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P0[1-3]|08\d{3}|53\d{3})$/;

function answerFor(err: FastifyError | ApiError): ErrorAnswer {
  if (err instanceof ApiError) {
    return {
      status: err.statusCode,
      code: err.code,
      message: err.message,
      retriable: err.retriable,
      details: err.options.details,
    };
  }
  const fe = err as FastifyError & { validationContext?: string };
  if (fe.validation) {
    const part = fe.validationContext ?? 'body';
    const details = fe.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string }).missingProperty;
      const extra = (v.params as { additionalProperty?: string }).additionalProperty;
      const path = v.instancePath + (missing ? `/${missing}` : extra ? `/${extra}` : '');
      return {
        field: `${part}${path || ''}`,
        reason: `${v.message ?? 'is invalid'}${extra ? ` (${extra})` : ''}`,
      };
    });
    return {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: `invalid request ${part}: ${details.map((d) => `${d.field} ${d.reason}`).join('; ')}`,
      retriable: false,
      details,
    };
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { ...mapped, message: fe.message, retriable: false };
  if (fe.statusCode === 429) {
    return { status: 429, code: 'RATE_LIMITED', message: fe.message, retriable: true };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'BAD_REQUEST', message: fe.message, retriable: false };
  }
  const code = (err as { code?: unknown }).code;
  const retriableFlag = (err as { retriable?: unknown }).retriable;
  const isKafka =
    /^KafkaJS/.test(err.name) ||
    (typeof code === 'string' && /^(PLT_KFK_(?!USER)|KAFKA_)/.test(code));
  if ((typeof code === 'string' && UNAVAILABLE.test(code)) || isKafka || retriableFlag === true) {
    return {
      status: 503,
      code: isKafka ? 'KAFKA_UNAVAILABLE' : 'DEPENDENCY_UNAVAILABLE',
      message: 'a backing service is unavailable, retry later',
      retriable: true,
    };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', retriable: false };
}

/** The one error handler and 404 handler: `{ error: { code, message, retriable } }`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    const answer = answerFor(err);
    if (answer.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ err: err.message, code: answer.code }, 'request rejected');
    if (answer.status === 503) void reply.header('retry-after', '1');
    if (err instanceof ApiError && err.options.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(err.options.retryAfterSeconds));
    }
    return reply.status(answer.status).send({
      error: {
        code: answer.code,
        message: answer.message,
        retriable: answer.retriable,
        ...(answer.details ? { details: answer.details } : {}),
      },
    });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
        retriable: false,
      },
    }),
  );
}
