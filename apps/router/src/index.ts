export { start, handleRouterRecord } from './start.js';
export { RouterConfig } from './config.js';
export {
  decideRoute,
  maxPriority,
  ruleKind,
  type RoutingDecision,
  type RoutingInput,
  type RoutingContext,
} from './decide.js';
export {
  RoutingRulesSchema,
  DEFAULT_ROUTING_RULES,
  RoutingRulesError,
  parseRoutingRules,
  loadRoutingRules,
  type RoutingRules,
} from './rules.js';
