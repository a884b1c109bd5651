import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { IntakeConfigSchema } from './config.js';
import { start } from './start.js';

const config = loadConfig(IntakeConfigSchema, process.env);
const logger = createLogger({ name: 'intake-api', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
shutdown.installSignalHandlers();
try {
  const running = await start(config, { logger });
  shutdown.add('intake-api', () => running.stop());
} catch (err) {
  logger.fatal({ err }, 'intake-api failed to start');
  logger.flush();
  process.exit(1);
}
