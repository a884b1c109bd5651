import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { TicketStoreConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(TicketStoreConfig, process.env);
const logger = createLogger({ name: 'ticket-store', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('ticket-store', () => app.stop());
