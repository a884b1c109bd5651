import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { ImapPollerConfig } from './config.js';
import { start } from './start.js';

const config = loadConfig(ImapPollerConfig, process.env);
const logger = createLogger({ name: 'imap-poller', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger });
shutdown.installSignalHandlers();
const app = await start(config, { logger });
shutdown.add('imap-poller', () => app.stop());
