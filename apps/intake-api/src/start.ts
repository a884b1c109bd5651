import { createLocalClassify } from '@mailroom/categorizer';
import { createPool } from '@mailroom/db';
import { ALL_TOPICS } from '@mailroom/events';
import {
  topicSpecs,
  createBatchingProducer,
  createKafka,
  createFastProducer,
  createProducer,
  shardByKey,
  ensureTopics,
  parseBrokers,
} from '@mailroom/kafka';
import { createLogger, createMetricsRegistry, type Logger } from '@mailroom/observability';
import type { Registry } from 'prom-client';
import { createApiKeyStore, parseBootstrapKeys, upsertApiKey } from './api-keys.js';
import { buildApp } from './app.js';
import type { Classify } from './app-types.js';
import type { IntakeConfig } from './config.js';
import { loadDepartments } from './taxonomy.js';

export interface StartOptions {
  logger?: Logger;
  registry?: Registry;
  /** The preview of POST /api/classify; default: the local model with TAXONOMY_FILE. */
  classify?: Classify;
}

export interface RunningIntake {
  port: number;
  /** Stops accepting, drains in-flight requests, flushes the producer, closes the pool. */
  stop(): Promise<void>;
}

/** "name=url,..." → the list GET /api/health probes. */
export function parseHealthUrls(spec: string): { name: string; url: string }[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const i = entry.indexOf('=');
      return i > 0
        ? { name: entry.slice(0, i), url: entry.slice(i + 1) }
        : { name: entry, url: entry };
    });
}

export async function start(
  config: IntakeConfig,
  options: StartOptions = {},
): Promise<RunningIntake> {
  const logger = options.logger ?? createLogger({ name: 'intake-api', level: config.LOG_LEVEL });
  const registry = options.registry ?? createMetricsRegistry('intake-api');
  const bootstrapKeys = parseBootstrapKeys(config.BOOTSTRAP_API_KEYS);
  const departments = await loadDepartments(config.TAXONOMY_FILE);
  // The local model answers previews in-process (no API key: a preview costs nothing).
  const classify =
    options.classify ?? (await createLocalClassify({ TAXONOMY_FILE: config.TAXONOMY_FILE }));

  const kafka = createKafka({
    brokers: parseBrokers(config.KAFKA_BROKERS),
    clientId: `${config.KAFKA_CLIENT_ID}-intake-api`,
    logger,
  });
  await ensureTopics(kafka, topicSpecs(ALL_TOPICS, config));
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: 'intake-api',
    onIdleError: (err) => logger.warn({ err }, 'idle database client failed'),
  });
  const admin = kafka.admin();
  const producers = await Promise.all(
    Array.from({ length: config.PRODUCER_LANES }, () =>
      config.PRODUCER_CLIENT === 'platformatic'
        ? createFastProducer({
            brokers: parseBrokers(config.KAFKA_BROKERS),
            clientId: `${config.KAFKA_CLIENT_ID}-intake-api`,
            logger,
          })
        : createProducer(kafka),
    ),
  );
  const disconnectProducers = () => Promise.all(producers.map((p) => p.disconnect()));
  const batching = shardByKey(
    producers.map((p) =>
      createBatchingProducer(p, {
        maxBatch: config.PRODUCER_MAX_BATCH,
        lingerMs: config.PRODUCER_LINGER_MS,
      }),
    ),
  );
  try {
    for (const key of bootstrapKeys) await upsertApiKey(pool, key);
    await admin.connect();
  } catch (err) {
    await Promise.allSettled([disconnectProducers(), admin.disconnect(), pool.end()]);
    throw err;
  }

  const app = await buildApp({
    pool,
    producer: batching,
    apiKeys: createApiKeyStore(pool, config.API_KEY_CACHE_SECONDS * 1000),
    registry,
    logger,
    departments,
    readiness: {
      kafka: () => admin.describeCluster(),
      postgres: () => pool.query('SELECT 1'),
    },
    pipelineHealth: parseHealthUrls(config.PIPELINE_HEALTH_URLS),
    classify,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    corsOrigins: config.CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    waitMaxSeconds: config.WAIT_MAX_SECONDS,
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  const port = app.server.address();
  const boundPort = typeof port === 'object' && port ? port.port : config.PORT;
  logger.info({ port: boundPort, keys: bootstrapKeys.map((k) => k.name) }, 'intake-api listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // 1. stop accepting and let in-flight requests finish (their sends are queued)
      await app.close();
      // 2. drain: every queued record is sent and acknowledged
      await batching.close();
      // 3. the producer, the admin client, then the pool
      await disconnectProducers();
      await admin.disconnect();
      await pool.end();
      logger.info('intake-api stopped');
    })());
  return { port: boundPort, stop };
}
