export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { createMetricsRegistry, registeredMetric, Registry } from './metrics.js';
export {
  startOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type ReadinessCheck,
} from './ops-server.js';
export { createShutdown, type Shutdown, type ShutdownOptions } from './shutdown.js';
