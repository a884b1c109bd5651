import { Type, type TSchema } from '@sinclair/typebox';
import {
  dashboardSummary,
  performanceReport,
  routingReport,
  ticketStats,
  trendsReport,
} from '@mailroom/analytics';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS } from '../auth.js';
import { ErrorBody } from '../errors.js';
import { SECURITY } from '../route-options.js';

// Dashboard and statistics endpoints. They read only the analytics rollups (small
// tables maintained by apps/analytics from tickets.events), never a scan of tickets:
// their cost does not grow with the number of tickets.

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const Counts = Type.Record(Type.String(), Type.Number());
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const Summary = Type.Object({
  total: Type.Number(),
  open: Type.Number(),
  byDepartment: Type.Array(
    Type.Object({ department: Type.String(), total: Type.Number(), open: Type.Number() }),
  ),
  byStatus: Counts,
  averageConfidence: Nullable(Type.Number()),
  last24h: Type.Object({ created: Type.Number(), resolved: Type.Number() }),
});

const Routing = Type.Object({
  routed: Type.Number(),
  automatic: Type.Number(),
  reroutes: Type.Number(),
  automaticAccuracy: Nullable(Type.Number()),
  rerouteRate: Nullable(Type.Number()),
  departments: Type.Array(
    Type.Object({
      department: Type.String(),
      routed: Type.Number(),
      automatic: Type.Number(),
      manual: Type.Number(),
      misroutedAutomatic: Type.Number(),
      reroutedIn: Type.Number(),
      reroutedOut: Type.Number(),
      averageConfidence: Nullable(Type.Number()),
      automaticAccuracy: Nullable(Type.Number()),
    }),
  ),
  topReroutes: Type.Array(
    Type.Object({
      from: Type.String(),
      to: Type.String(),
      actor: Type.String(),
      reroutes: Type.Number(),
    }),
  ),
});

const Duration = Type.Object({
  count: Type.Number(),
  averageSeconds: Nullable(Type.Number()),
  p50Seconds: Nullable(Type.Number()),
  p90Seconds: Nullable(Type.Number()),
  withinSla: Nullable(
    Type.Number({ description: 'share of tickets within the SLA target of their priority' }),
  ),
});
const Durations = {
  ack: Duration,
  first_response: Duration,
  resolution: Duration,
};
const Performance = Type.Object({
  overall: Type.Object(Durations),
  departments: Type.Array(Type.Object({ department: Type.String(), ...Durations })),
});

const Trends = Type.Object({
  days: Type.Integer(),
  items: Type.Array(
    Type.Object({
      date: Type.String({ format: 'date' }),
      created: Type.Number(),
      resolved: Type.Number(),
      closed: Type.Number(),
    }),
  ),
});

const Stats = Type.Object({
  total: Type.Number(),
  open: Type.Number(),
  averagePerDay: Type.Number(),
  byPriority: Counts,
  byCategory: Counts,
});

const options = <S extends TSchema>(tag: string, summary: string, response: S) => ({
  config: { scopes: ACCESS.agent },
  schema: { tags: [tag], summary, security: SECURITY, response: { 200: response, ...errors } },
});

export function registerDashboard(app: App, deps: AppDeps): void {
  app.get(
    '/api/dashboard/summary',
    options('dashboard', 'Totals by department and status, average confidence, last 24 h', Summary),
    async () => dashboardSummary(deps.pool),
  );
  app.get(
    '/api/dashboard/routing',
    options('dashboard', 'Automatic routing accuracy, reroutes per department', Routing),
    async () => routingReport(deps.pool),
  );
  app.get(
    '/api/analytics/performance',
    options(
      'dashboard',
      'Time to acknowledgement, first response and resolution; SLA',
      Performance,
    ),
    async () => performanceReport(deps.pool),
  );
  // A static segment: find-my-way matches it before the parametric /api/tickets/:id,
  // whatever the registration order.
  app.get(
    '/api/tickets/stats',
    options('tickets', 'Total, open, average per day, by priority and category', Stats),
    async () => ticketStats(deps.pool),
  );
  app.get(
    '/api/analytics/trends',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['dashboard'],
        summary: 'Tickets created, resolved and closed per day (UTC)',
        security: SECURITY,
        querystring: Type.Object(
          { days: Type.Integer({ minimum: 1, maximum: 365, default: 30 }) },
          { additionalProperties: false },
        ),
        response: { 200: Trends, ...errors },
      },
    },
    async (request) => trendsReport(deps.pool, request.query.days),
  );
}
