import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { CategorizerConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(CategorizerConfig, process.env);
const logger = createLogger({ name: 'categorizer', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('categorizer', () => app.stop());
