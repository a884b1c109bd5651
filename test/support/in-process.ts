// Apps of the pipeline started in the test's own process, as `npm start` runs them, each
// consumer in a group of the run's own whose offsets are committed at the newest records
// before it starts (so tests on the shared topics leave each other's records alone),
// metrics on a free port.
import { CategorizerConfig, start as startCategorizer } from '@mailroom/categorizer';
import { loadConfig } from '@mailroom/config';
import { NotifierConfig, start as startNotifier } from '@mailroom/notifier';
import { RouterConfig, start as startRouter } from '@mailroom/router';
import { TicketStoreConfig, start as startTicketStore } from '@mailroom/ticket-store';
import { createKafka, parseBrokers } from '@mailroom/kafka';
import type { Logger } from '@mailroom/observability';
import { stackEnv } from './env.js';
import { commitNewestOffsets } from './offsets.js';

export type ConsumerName = 'ticket-store' | 'categorizer' | 'router' | 'notifier';

interface Running {
  joined: Promise<void>;
  stop: () => Promise<void>;
}

const PREFIX: Record<ConsumerName, string> = {
  'ticket-store': 'TICKET_STORE',
  categorizer: 'CATEGORIZER',
  router: 'ROUTER',
  notifier: 'NOTIFIER',
};

/**
 * Starts `names` in that order with groups `${runId}-<name>`, waits until each has its
 * partitions, and returns their stops (in start order). `env` is added to every app's
 * environment.
 */
export async function startConsumers(
  runId: string,
  names: readonly ConsumerName[],
  logger: Logger,
  env: Record<string, string> = {},
): Promise<(() => Promise<void>)[]> {
  const envOf = (name: ConsumerName) => ({
    ...process.env,
    METRICS_PORT: '0',
    ...env,
    [`${PREFIX[name]}_GROUP_ID`]: `${runId}-${name}`,
    [`${PREFIX[name]}_FROM_BEGINNING`]: 'true',
  });
  const kafka = createKafka({
    brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
    clientId: runId,
    logger,
  });
  await commitNewestOffsets(
    kafka,
    names.map((name) => `${runId}-${name}`),
  );
  const starters: Record<ConsumerName, () => Promise<Running>> = {
    'ticket-store': () =>
      startTicketStore(loadConfig(TicketStoreConfig, envOf('ticket-store')), { logger }),
    categorizer: () =>
      startCategorizer(loadConfig(CategorizerConfig, envOf('categorizer')), { logger }),
    router: () => startRouter(loadConfig(RouterConfig, envOf('router')), { logger }),
    notifier: () => startNotifier(loadConfig(NotifierConfig, envOf('notifier')), { logger }),
  };
  const apps: Running[] = [];
  try {
    for (const name of names) apps.push(await starters[name]());
    await Promise.all(apps.map((a) => a.joined));
  } catch (err) {
    for (const app of apps.reverse()) await app.stop();
    throw err;
  }
  return apps.map((a) => a.stop);
}
