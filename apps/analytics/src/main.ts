import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { AnalyticsConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(AnalyticsConfig, process.env);
const logger = createLogger({ name: 'analytics', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('analytics', () => app.stop());
