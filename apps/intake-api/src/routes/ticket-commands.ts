import { Type } from '@sinclair/typebox';
import { Uuid } from '@mailroom/events';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS, requireKey } from '../auth.js';
import {
  accepted,
  checkDepartment,
  checkTransition,
  existingTicket,
  sendRoute,
  sendUpdate,
} from '../commands.js';
import { ErrorBody } from '../errors.js';
import type { IntakeMetrics } from '../http-metrics.js';
import { SECURITY, strictBody } from '../route-options.js';
import {
  CommandAccepted,
  CommandStatus,
  StatusChangeBody,
  TicketIdParams,
  TicketPatch,
} from '../schemas.js';
import { commandStatus } from '../routing-queries.js';

const responses = { 202: CommandAccepted, '4xx': ErrorBody, '5xx': ErrorBody };

export function registerTicketCommands(app: App, deps: AppDeps, metrics: IntakeMetrics): void {
  app.patch(
    '/api/tickets/:id',
    {
      config: { scopes: ACCESS.agent },
      validatorCompiler: strictBody,
      schema: {
        tags: ['tickets'],
        summary: 'Change status, priority, category, assignee or department',
        description:
          'Produces command.update_ticket (and command.route_ticket for a department, a ' +
          'reroute) on tickets.commands; 202 with the command id. 409 when the status ' +
          'transition is not allowed from the current status.',
        security: SECURITY,
        params: TicketIdParams,
        body: TicketPatch,
        response: responses,
      },
    },
    async (request, reply) => {
      const apiKey = requireKey(request);
      const { department, reason, ...changes } = request.body;
      const ticket = await existingTicket(deps, request.params.id);
      if (changes.status) checkTransition(ticket.status, changes.status);
      if (department) checkDepartment(deps, department);
      const actor = { type: 'agent' as const, id: apiKey.name };
      const ids: string[] = [];
      // Sent one after the other: same key, same partition, this order.
      if (Object.keys(changes).length > 0) {
        ids.push(await sendUpdate(deps, metrics, ticket.id, changes, actor, reason));
      }
      if (department) {
        const why = reason ?? `department changed via PATCH by ${apiKey.name}`;
        ids.push(await sendRoute(deps, metrics, ticket.id, department, actor, why));
      }
      return reply.code(202).send(accepted(ticket.id, ids));
    },
  );

  app.put(
    '/api/tickets/:id/status',
    {
      config: { scopes: ACCESS.agent },
      validatorCompiler: strictBody,
      schema: {
        tags: ['tickets'],
        summary: 'Change the status of a ticket',
        security: SECURITY,
        params: TicketIdParams,
        body: StatusChangeBody,
        response: responses,
      },
    },
    async (request, reply) => {
      const apiKey = requireKey(request);
      const ticket = await existingTicket(deps, request.params.id);
      checkTransition(ticket.status, request.body.status);
      const id = await sendUpdate(
        deps,
        metrics,
        ticket.id,
        { status: request.body.status },
        { type: 'agent', id: apiKey.name },
        request.body.reason,
      );
      return reply.code(202).send(accepted(ticket.id, [id]));
    },
  );

  app.get(
    '/api/commands/:commandId',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['tickets'],
        summary: 'What became of a command (pending, applied, rejected with its reason)',
        security: SECURITY,
        params: Type.Object({ commandId: Uuid }),
        response: { 200: CommandStatus, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request) => commandStatus(deps.pool, request.params.commandId),
  );
}
