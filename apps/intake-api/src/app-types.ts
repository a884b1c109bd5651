import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Message } from '@mailroom/kafka';
import type { Logger } from '@mailroom/observability';
import type { Registry } from 'prom-client';
import type pg from 'pg';
import type { ApiKeyStore } from './api-keys.js';
import type { ClassifyBody } from './schemas.js';
import type { DepartmentInfo } from './taxonomy.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Previews a categorization (the categorizer's classifier); its result is returned as is. */
export type Classify = (input: ClassifyBody) => Promise<Record<string, unknown>>;

/** Everything buildApp needs, passed in (STYLE.md: no DI container, no globals). */
export interface AppDeps {
  pool: pg.Pool;
  /** Resolves once Kafka acknowledged the record (a batching producer in production). */
  producer: { send(topic: string, message: Message): Promise<void> };
  apiKeys: ApiKeyStore;
  registry: Registry;
  logger: Logger;
  departments: readonly DepartmentInfo[];
  /** Named checks of GET /ready: each resolves when its dependency is usable. */
  readiness: Record<string, () => Promise<unknown>>;
  /** The apps whose /health GET /api/health aggregates. */
  pipelineHealth: readonly { name: string; url: string }[];
  /** Absent until the categorizer is wired in: POST /api/classify answers 501. */
  classify?: Classify;
  bodyLimitBytes: number;
  /** [] → no CORS headers; ['*'] → any origin. */
  corsOrigins: readonly string[];
  rateLimitPerMinute: number;
  waitMaxSeconds: number;
}
