// Test wiring of intake-api against the real local stack (Kafka + the test database).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Consumer, KafkaMessage } from 'kafkajs';
import type pg from 'pg';
import { createPool } from '@mailroom/db';
import { ALL_TOPICS } from '@mailroom/events';
import {
  createBatchingProducer,
  createKafka,
  createProducer,
  ensureTopics,
  parseBrokers,
  type BatchingProducer,
  type MailroomProducer,
} from '@mailroom/kafka';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique } from '../../../test/support/env.js';
import { createApiKeyStore, upsertApiKey, type Scope } from '../src/api-keys.js';
import { buildApp } from '../src/app.js';
import type { App, AppDeps } from '../src/app-types.js';
import { DEFAULT_DEPARTMENTS } from '../src/taxonomy.js';

export const logger = testLogger('intake-api');
export const kafka = createKafka({
  brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
  clientId: 'test-intake',
  logger,
});

export interface Harness {
  pool: pg.Pool;
  producer: MailroomProducer;
  batching: BatchingProducer;
  close(): Promise<void>;
}

export async function openHarness(): Promise<Harness> {
  await ensureTopics(
    kafka,
    ALL_TOPICS.map((topic) => ({ topic, partitions: 3, replicationFactor: 1 })),
  );
  const pool = createPool({ url: stackEnv('DATABASE_URL'), max: 5 });
  const producer = await createProducer(kafka);
  const batching = createBatchingProducer(producer);
  return {
    pool,
    producer,
    batching,
    close: async () => {
      await batching.close();
      await producer.disconnect();
      await pool.end();
    },
  };
}

export async function testApp(h: Harness, overrides: Partial<AppDeps> = {}): Promise<App> {
  const admin = kafka.admin();
  const app = await buildApp({
    pool: h.pool,
    producer: h.batching,
    apiKeys: createApiKeyStore(h.pool, 30_000),
    registry: new Registry(),
    logger,
    departments: DEFAULT_DEPARTMENTS,
    readiness: {
      kafka: async () => {
        await admin.connect();
        return admin.describeCluster();
      },
      postgres: () => h.pool.query('SELECT 1'),
    },
    pipelineHealth: [],
    bodyLimitBytes: 1_048_576,
    corsOrigins: [],
    rateLimitPerMinute: 10_000,
    waitMaxSeconds: 5,
    ...overrides,
  });
  app.addHook('onClose', async () => admin.disconnect());
  return app;
}

/** A fresh API key with these scopes; returns the plaintext and the auth header. */
export async function makeKey(pool: pg.Pool, ...scopes: Scope[]) {
  const key = `test_${randomBytes(18).toString('base64url')}`;
  const name = unique(`test-${scopes.join('+')}`);
  const apiKey = await upsertApiKey(pool, { name, scopes, key });
  return { ...apiKey, key, headers: { authorization: `Bearer ${key}` } };
}

export interface TicketRow {
  id?: string;
  title?: string;
  description?: string;
  requester_email?: string;
  requester_name?: string | null;
  channel?: 'api' | 'email';
  status?: 'pending' | 'in_progress' | 'resolved' | 'closed';
  priority?: 'low' | 'medium' | 'high' | 'critical' | null;
  category?: string | null;
  department?: string | null;
  created_at?: string;
  routed_at?: string | null;
}

/** Stores a ticket as ticket-store would (it is the writer; these tests only read). */
export async function insertTicket(pool: pg.Pool, row: TicketRow = {}) {
  const id = row.id ?? randomUUID();
  const createdAt = row.created_at ?? new Date().toISOString();
  const { rows } = await pool.query<{ id: string; number: string }>(
    `INSERT INTO tickets (id, source_key, title, description, requester_email, requester_name,
       channel, status, priority, category, department, created_at, updated_at, routed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)
     ON CONFLICT (id) DO UPDATE SET routed_at = EXCLUDED.routed_at, department = EXCLUDED.department
     RETURNING id, number`,
    [
      id,
      `test:${id}`,
      row.title ?? 'Printer on fire',
      row.description ?? 'The printer in room 4 is on fire.',
      row.requester_email ?? 'alice@example.test',
      row.requester_name ?? null,
      row.channel ?? 'api',
      row.status ?? 'pending',
      row.priority ?? null,
      row.category ?? null,
      row.department ?? null,
      createdAt,
      row.routed_at ?? null,
    ],
  );
  return { id: rows[0]!.id, number: Number(rows[0]!.number) };
}

/**
 * Reads what is produced to `topic` from now on: the current end offsets are taken
 * first and the consumer seeks there, so no earlier record is read and none is missed.
 */
export async function tapTopic(topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const records: KafkaMessage[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: unique('test-tap'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void records.push(message) });
  for (const o of offsets) consumer.seek({ topic, partition: o.partition, offset: o.high });
  return {
    records,
    find: (key: string) => records.find((r) => r.key?.toString() === key),
    stop: () => consumer.disconnect(),
  };
}

export const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
