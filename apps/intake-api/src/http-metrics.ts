import { Counter, Histogram, type Registry } from 'prom-client';
import { registeredMetric } from '@mailroom/observability';
import type { App } from './app-types.js';

const metric = registeredMetric;

export interface IntakeMetrics {
  ticketsAccepted: Counter<'replay'>;
  commandsAccepted: Counter<'type'>;
}

/** Request duration by route template (low cardinality), and the business counters. */
export function installHttpMetrics(app: App, registry: Registry): IntakeMetrics {
  const duration = metric(
    registry,
    'mailroom_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'mailroom_http_request_duration_seconds',
        help: 'HTTP request duration by method, route template and status code.',
        labelNames: ['method', 'route', 'status_code'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
        registers: [registry],
      }),
  );
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  return {
    ticketsAccepted: metric(
      registry,
      'mailroom_intake_tickets_accepted_total',
      () =>
        new Counter({
          name: 'mailroom_intake_tickets_accepted_total',
          help: 'Ticket submissions acknowledged by Kafka and answered 202 (replay: idempotent retry).',
          labelNames: ['replay'],
          registers: [registry],
        }),
    ),
    commandsAccepted: metric(
      registry,
      'mailroom_intake_commands_accepted_total',
      () =>
        new Counter({
          name: 'mailroom_intake_commands_accepted_total',
          help: 'Commands produced to tickets.commands, by type.',
          labelNames: ['type'],
          registers: [registry],
        }),
    ),
  };
}
