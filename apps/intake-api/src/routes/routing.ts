import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS, requireKey } from '../auth.js';
import { accepted, checkDepartment, existingTicket, sendRoute } from '../commands.js';
import { conflict, ErrorBody } from '../errors.js';
import type { IntakeMetrics } from '../http-metrics.js';
import { SECURITY, strictBody } from '../route-options.js';
import {
  CommandAccepted,
  Department,
  DepartmentStats,
  RerouteBody,
  RouteBody,
  RoutingEntry,
} from '../schemas.js';
import { openTicketCounts, routingHistory, routingStatistics } from '../routing-queries.js';

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export function registerRouting(app: App, deps: AppDeps, metrics: IntakeMetrics): void {
  const route = async (
    apiKey: { name: string },
    idOrNumber: string,
    department: string,
    reason: string,
  ) => {
    checkDepartment(deps, department);
    const ticket = await existingTicket(deps, idOrNumber);
    if (ticket.status === 'closed') {
      throw conflict('TICKET_CLOSED', 'a closed ticket cannot be routed');
    }
    const actor = { type: 'agent' as const, id: apiKey.name };
    const id = await sendRoute(deps, metrics, ticket.id, department, actor, reason);
    return accepted(ticket.id, [id]);
  };

  app.get(
    '/api/departments',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['departments'],
        summary: 'Departments of the taxonomy, with their open tickets',
        security: SECURITY,
        response: { 200: Type.Object({ items: Type.Array(Department) }), ...errors },
      },
    },
    async () => {
      const open = await openTicketCounts(deps.pool);
      return {
        items: deps.departments.map((d) => ({ ...d, openTickets: open.get(d.name) ?? 0 })),
      };
    },
  );

  app.post(
    '/api/route',
    {
      config: { scopes: ACCESS.agent },
      validatorCompiler: strictBody,
      schema: {
        tags: ['routing'],
        summary: 'Route (or reroute) a ticket by hand, with a reason',
        security: SECURITY,
        body: RouteBody,
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { ticketId, department, reason } = request.body;
      return reply.code(202).send(await route(requireKey(request), ticketId, department, reason));
    },
  );

  app.put(
    '/api/route/:ticketId',
    {
      config: { scopes: ACCESS.agent },
      validatorCompiler: strictBody,
      schema: {
        tags: ['routing'],
        summary: 'Reroute a ticket, with a reason',
        security: SECURITY,
        params: Type.Object({ ticketId: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: RerouteBody,
        response: { 202: CommandAccepted, ...errors },
      },
    },
    async (request, reply) => {
      const { department, reason } = request.body;
      const answer = await route(requireKey(request), request.params.ticketId, department, reason);
      return reply.code(202).send(answer);
    },
  );

  app.get(
    '/api/routing/history/:ticketId',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['routing'],
        summary: 'Routing decisions of a ticket, oldest first',
        security: SECURITY,
        params: Type.Object({ ticketId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: Type.Object({ items: Type.Array(RoutingEntry) }), ...errors },
      },
    },
    async (request) => {
      const ticket = await existingTicket(deps, request.params.ticketId);
      return { items: await routingHistory(deps.pool, ticket.id) };
    },
  );

  app.get(
    '/api/routing/statistics',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['routing'],
        summary: 'Per department: routed, rerouted in/out, average confidence, reroute rate',
        security: SECURITY,
        response: { 200: Type.Object({ items: Type.Array(DepartmentStats) }), ...errors },
      },
    },
    async () => ({ items: await routingStatistics(deps.pool) }),
  );
}
