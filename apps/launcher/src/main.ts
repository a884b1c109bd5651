// The embedded default: every app of the pipeline in one process, each with its own
// config, metrics registry and ops port, stopped in reverse start order on SIGTERM/SIGINT.
// In production the same apps run as separate processes (apps/<name>/src/main.ts).
import { loadConfig } from '@mailroom/config';
import { createLogger, createShutdown } from '@mailroom/observability';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';

const logger = createLogger({ name: 'launcher', level: 'info' });
const shutdown = createShutdown({ logger, deadlineMs: 45_000 });
shutdown.installSignalHandlers();

const apps: { name: string; stop(): Promise<void> }[] = [];
try {
  const ticketStore = await startTicketStore(loadConfig(TicketStoreConfig, process.env), {
    logger: logger.child({ component: 'ticket-store' }),
  });
  apps.push({ name: 'ticket-store', stop: ticketStore.stop });
  logger.info({ apps: apps.map((a) => a.name) }, 'pipeline running; Ctrl-C stops it');
} catch (err) {
  logger.error({ err }, 'pipeline failed to start');
  process.exitCode = 1;
}
for (const app of [...apps].reverse()) shutdown.add(app.name, () => app.stop());
if (process.exitCode === 1) await shutdown.run('start failed');
