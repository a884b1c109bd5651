import { Counter, type Registry } from 'prom-client';

export interface RouterMetrics {
  decisions: Counter<'kind' | 'rule' | 'department'>;
  skipped: Counter<'reason'>;
  commandsRejected: Counter<'code'>;
}

export function createRouterMetrics(registry: Registry): RouterMetrics {
  return {
    decisions: new Counter({
      name: 'mailroom_router_decisions_total',
      help: 'Routing decisions by kind (routed, rerouted), kind of rule that fired and department.',
      labelNames: ['kind', 'rule', 'department'],
      registers: [registry],
    }),
    skipped: new Counter({
      name: 'mailroom_router_skipped_total',
      help: 'Categorizations that did not route, by reason (e.g. already_routed).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    commandsRejected: new Counter({
      name: 'mailroom_router_commands_rejected_total',
      help: 'Route commands rejected, by code.',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
