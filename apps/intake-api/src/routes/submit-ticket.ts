import { Type } from '@sinclair/typebox';
import { encodeEvent, makeEvent, TOPICS } from '@mailroom/events';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS, requireKey } from '../auth.js';
import { ErrorBody } from '../errors.js';
import type { IntakeMetrics } from '../http-metrics.js';
import { checkIdempotencyKey, claimIdempotencyKey, newSubmission } from '../idempotency.js';
import { strictBody, SECURITY } from '../route-options.js';
import { TicketAccepted, TicketDetail, TicketSubmission } from '../schemas.js';
import { getTicketDetail, isRouted } from '../ticket-queries.js';

/** Seconds to wait for routing: ?wait=routed → the cap, Prefer: wait=N → min(N, cap). */
export function requestedWait(
  query: { wait?: string },
  prefer: string | undefined,
  cap: number,
): number {
  const m = prefer ? /(?:^|[;,\s])wait=(\d+)/i.exec(prefer) : null;
  if (m?.[1]) return Math.min(Number(m[1]), cap);
  return query.wait === 'routed' ? cap : 0;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The caller's W3C trace continues into Kafka; without one, the submission id is the
 * trace id (also 16 random bytes), so a submission is easy to find in traces.
 */
export function traceParentOf(header: string | string[] | undefined, submissionId: string): string {
  const incoming = Array.isArray(header) ? header[0] : header;
  if (incoming && TRACEPARENT.test(incoming)) return incoming;
  const id = submissionId;
  return `00-${id.slice(0, 8)}${id.slice(9, 13)}${id.slice(14, 18)}${id.slice(19, 23)}${id.slice(24)}-0000000000000000-01`;
}

export function registerSubmitTicket(
  app: App,
  deps: AppDeps,
  metrics: IntakeMetrics,
  isClosing: () => boolean,
): void {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const waitForRouting = async (ticketId: string, seconds: number, gone: () => boolean) => {
    const deadline = Date.now() + seconds * 1000;
    for (let delay = 100; Date.now() < deadline && !isClosing() && !gone();) {
      if (await isRouted(deps.pool, ticketId)) return getTicketDetail(deps.pool, ticketId);
      await sleep(Math.min(delay, deadline - Date.now()));
      delay = Math.min(delay * 1.5, 1_000);
    }
    return undefined;
  };

  app.post(
    '/api/tickets',
    {
      config: { scopes: ACCESS.submit },
      validatorCompiler: strictBody,
      schema: {
        tags: ['tickets'],
        summary: 'Submit a ticket',
        description:
          'Validates the submission, produces it to tickets.raw and answers 202 once Kafka ' +
          'acknowledged it. `Idempotency-Key` makes retries return the same ticket; ' +
          '`?wait=routed` or `Prefer: wait=N` waits for routing and answers 200 with the ticket.',
        security: SECURITY,
        body: TicketSubmission,
        querystring: Type.Object(
          { wait: Type.Optional(Type.Literal('routed')) },
          { additionalProperties: false },
        ),
        response: { 200: TicketDetail, 202: TicketAccepted, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const apiKey = requireKey(request);
      const header = request.headers['idempotency-key'];
      const idemKey = Array.isArray(header) ? header[0] : header;
      let ids;
      if (idemKey !== undefined) {
        checkIdempotencyKey(idemKey);
        ids = await claimIdempotencyKey(deps.pool, apiKey.id, idemKey, request.body);
      } else {
        ids = newSubmission();
      }
      const receivedAt = new Date().toISOString();
      const event = makeEvent('raw.api_submission', {
        // One record per submission: a retried submission is the same record to consumers.
        id: ids.submissionId,
        ticketId: ids.ticketId,
        source: 'intake-api',
        correlationId: request.id,
        occurredAt: receivedAt,
        // Object.assign, not a spread: {...body, more} takes a slow path in V8 (~20x).
        payload: Object.assign({}, request.body, {
          submissionId: ids.submissionId,
          apiKeyId: apiKey.id,
          receivedAt,
        }),
      });
      await deps.producer.send(
        TOPICS.raw,
        encodeEvent(
          event,
          ids.submissionId,
          traceParentOf(request.headers.traceparent, ids.submissionId),
          // The body passed the route's validator (compiled from the event's own schema)
          // and the other payload fields are set here: the envelope is checked, not the
          // payload a second time.
          { payloadValidated: true },
        ),
      );
      metrics.ticketsAccepted.inc({ replay: String(ids.replay) });

      const statusUrl = `/api/tickets/${ids.ticketId}`;
      const prefer = request.headers.prefer;
      const wait = requestedWait(
        request.query,
        Array.isArray(prefer) ? prefer.join(',') : prefer,
        deps.waitMaxSeconds,
      );
      if (wait > 0) {
        // The client gone is its socket closed: the request stream itself counts as
        // destroyed as soon as its body was read.
        const ticket = await waitForRouting(
          ids.ticketId,
          wait,
          () => request.raw.socket?.destroyed === true,
        );
        if (ticket) {
          return reply.code(200).header('preference-applied', `wait=${wait}`).send(ticket);
        }
      }
      return reply
        .code(202)
        .header('location', statusUrl)
        .send({ id: ids.ticketId, number: null, status: 'accepted' as const, statusUrl });
    },
  );
}
