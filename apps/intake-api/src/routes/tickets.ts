import { Type } from '@sinclair/typebox';
import type { App, AppDeps } from '../app-types.js';
import { ACCESS } from '../auth.js';
import { ErrorBody, notFound } from '../errors.js';
import { SECURITY } from '../route-options.js';
import { TicketDetail, TicketIdParams, TicketList, TicketListQuery } from '../schemas.js';
import { findTicket, getTicketDetail, listTickets } from '../ticket-queries.js';

export function registerTicketQueries(app: App, deps: AppDeps): void {
  app.get(
    '/api/tickets',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['tickets'],
        summary: 'List tickets',
        description:
          'Filters compose (AND); a filter given several times matches any of its values. ' +
          'Pages are keyset-paginated: pass `nextCursor` as `cursor` with the same filters and sort.',
        security: SECURITY,
        querystring: TicketListQuery,
        response: { 200: TicketList, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request) => listTickets(deps.pool, request.query),
  );

  app.get(
    '/api/tickets/:id',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['tickets'],
        summary: 'A ticket with its messages, status history and routing history',
        security: SECURITY,
        params: TicketIdParams,
        response: { 200: TicketDetail, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request) => {
      const ref = await findTicket(deps.pool, request.params.id);
      const detail = ref ? await getTicketDetail(deps.pool, ref.id) : undefined;
      if (!detail) throw notFound(`ticket ${request.params.id}`);
      return detail;
    },
  );

  app.get(
    '/api/departments/:name/tickets',
    {
      config: { scopes: ACCESS.agent },
      schema: {
        tags: ['departments'],
        summary: "A department's tickets",
        security: SECURITY,
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Omit(TicketListQuery, ['department'], { additionalProperties: false }),
        response: { 200: TicketList, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (!deps.departments.some((d) => d.name === name)) throw notFound(`department ${name}`);
      return listTickets(deps.pool, { ...request.query, department: [name] });
    },
  );
}
