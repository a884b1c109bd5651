import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { RouterConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(RouterConfig, process.env);
const logger = createLogger({ name: 'router', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('router', () => app.stop());
