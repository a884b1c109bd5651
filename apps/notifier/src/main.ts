import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { NotifierConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(NotifierConfig, process.env);
const logger = createLogger({ name: 'notifier', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('notifier', () => app.stop());
