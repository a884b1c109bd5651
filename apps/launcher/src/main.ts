// The embedded default: every app of the pipeline in one process, each with its own
// config, metrics registry and port, stopped in reverse start order on SIGTERM/SIGINT.
// In production the same apps run as separate processes (apps/<name>/src/main.ts).
import { AnalyticsConfig, start as startAnalytics } from '@mailroom/analytics';
import { CategorizerConfig, start as startCategorizer } from '@mailroom/categorizer';
import { APP_PORTS, loadConfig } from '@mailroom/config';

type AppName = keyof typeof APP_PORTS;
import { ImapPollerConfig, start as startImapPoller } from '@mailroom/imap-poller';
import { NotifierConfig, start as startNotifier } from '@mailroom/notifier';
import { RouterConfig, start as startRouter } from '@mailroom/router';
import { IntakeConfigSchema, start as startIntake } from '@mailroom/intake-api';
import { createLogger, createShutdown } from '@mailroom/observability';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';

const logger = createLogger({ name: 'launcher', level: 'info' });
const shutdown = createShutdown({ logger, deadlineMs: 45_000 });
shutdown.installSignalHandlers();

/**
 * The ports of the local stack's names (deploy/local/stack.env, which Prometheus scrapes):
 * one process runs every app, so one METRICS_PORT cannot serve them all. Each app gets
 * its own variable if set; PORT, the intake's own name, wins over INTAKE_API_PORT.
 */
const STACK_PORTS: Record<AppName, string> = {
  'ticket-store': 'TICKET_STORE_METRICS_PORT',
  categorizer: 'CATEGORIZER_METRICS_PORT',
  router: 'ROUTER_METRICS_PORT',
  notifier: 'NOTIFIER_METRICS_PORT',
  analytics: 'ANALYTICS_METRICS_PORT',
  'imap-poller': 'IMAP_POLLER_METRICS_PORT',
  'intake-api': 'INTAKE_API_PORT',
};

function envOf(name: AppName): NodeJS.ProcessEnv {
  const port = process.env[STACK_PORTS[name]];
  if (name !== 'intake-api') return port ? { ...process.env, METRICS_PORT: port } : process.env;
  // GET /api/health asks each app of this process, on the port it was given here.
  const health = Object.entries(STACK_PORTS)
    .filter(([app]) => app !== 'intake-api')
    .map(
      ([app, v]) => `${app}=http://127.0.0.1:${process.env[v] ?? APP_PORTS[app as AppName]}/health`,
    )
    .join(',');
  return {
    ...process.env,
    PORT: process.env.PORT ?? port,
    PIPELINE_HEALTH_URLS: process.env.PIPELINE_HEALTH_URLS ?? health,
  };
}

const child = (name: string) => ({ logger: logger.child({ service: name }) });
const apps: { name: string; start: () => Promise<{ stop(): Promise<void> }> }[] = [
  {
    name: 'ticket-store',
    start: () =>
      startTicketStore(loadConfig(TicketStoreConfig, envOf('ticket-store')), child('ticket-store')),
  },
  {
    name: 'categorizer',
    start: () =>
      startCategorizer(loadConfig(CategorizerConfig, envOf('categorizer')), child('categorizer')),
  },
  {
    name: 'router',
    start: () => startRouter(loadConfig(RouterConfig, envOf('router')), child('router')),
  },
  {
    name: 'notifier',
    start: () => startNotifier(loadConfig(NotifierConfig, envOf('notifier')), child('notifier')),
  },
  {
    name: 'analytics',
    start: () =>
      startAnalytics(loadConfig(AnalyticsConfig, envOf('analytics')), child('analytics')),
  },
  {
    name: 'imap-poller',
    start: () =>
      startImapPoller(loadConfig(ImapPollerConfig, envOf('imap-poller')), child('imap-poller')),
  },
  {
    name: 'intake-api',
    start: () =>
      startIntake(loadConfig(IntakeConfigSchema, envOf('intake-api')), child('intake-api')),
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
