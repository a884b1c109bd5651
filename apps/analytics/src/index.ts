export { start, type RunningAnalytics, type StartOptions } from './start.js';
export { AnalyticsConfig } from './config.js';
export { applyEvent, type ApplyOutcome } from './apply-event.js';
export { reduce, EMPTY_FACTS, hourOf, isManualRouting, type TicketFacts } from './reduce.js';
export { DEFAULT_PRICES, costUsd, type ModelPrice, type PriceTable } from './pricing.js';
export { createRollupSchema, withSearchPath, ANALYTICS_MIGRATION } from './schema.js';
export {
  dashboardSummary,
  routingReport,
  performanceReport,
  trendsReport,
  ticketStats,
} from './dashboard-queries.js';
