// The embedded default: every app of the pipeline in one process, each with its own
// config, metrics registry and port, stopped in reverse start order on SIGTERM/SIGINT.
// In production the same apps run as separate processes (apps/<name>/src/main.ts).
import { AnalyticsConfig, start as startAnalytics } from '@mailroom/analytics';
import { CategorizerConfig, start as startCategorizer } from '@mailroom/categorizer';
import { loadConfig } from '@mailroom/config';
import { ImapPollerConfig, start as startImapPoller } from '@mailroom/imap-poller';
import { NotifierConfig, start as startNotifier } from '@mailroom/notifier';
import { RouterConfig, start as startRouter } from '@mailroom/router';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { createLogger, createShutdown } from '@mailroom/observability';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';

const logger = createLogger({ name: 'launcher', level: 'info' });
const shutdown = createShutdown({ logger, deadlineMs: 45_000 });
shutdown.installSignalHandlers();

const env = process.env;
const child = (name: string) => ({ logger: logger.child({ service: name }) });
const apps: { name: string; start: () => Promise<{ stop(): Promise<void> }> }[] = [
  {
    name: 'ticket-store',
    start: () => startTicketStore(loadConfig(TicketStoreConfig, env), child('ticket-store')),
  },
  {
    name: 'categorizer',
    start: () => startCategorizer(loadConfig(CategorizerConfig, env), child('categorizer')),
  },
  {
    name: 'router',
    start: () => startRouter(loadConfig(RouterConfig, env), child('router')),
  },
  {
    name: 'notifier',
    start: () => startNotifier(loadConfig(NotifierConfig, env), child('notifier')),
  },
  {
    name: 'analytics',
    start: () => startAnalytics(loadConfig(AnalyticsConfig, env), child('analytics')),
  },
  {
    name: 'imap-poller',
    start: () => startImapPoller(loadConfig(ImapPollerConfig, env), child('imap-poller')),
  },
  {
    name: 'intake-api',
    start: () => startIntake(loadConfig(IntakeConfigSchema, env), child('intake-api')),
  },
];

const running: { name: string; stop(): Promise<void> }[] = [];
try {
  for (const app of apps) {
    const handle = await app.start();
    running.push({ name: app.name, stop: () => handle.stop() });
  }
  logger.info({ apps: running.map((a) => a.name) }, 'pipeline running; Ctrl-C stops it');
} catch (err) {
  logger.error({ err }, 'pipeline failed to start');
  process.exitCode = 1;
}
for (const app of [...running].reverse()) shutdown.add(app.name, () => app.stop());
if (process.exitCode === 1) await shutdown.run('start failed');
