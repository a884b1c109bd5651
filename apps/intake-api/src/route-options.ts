import type { FastifySchemaCompiler } from 'fastify';
import { ajv } from '@mailroom/events';

/**
 * Validator for routes with a body: the project's one Ajv (libs/events), without type
 * coercion or silent removal of unknown fields, so the API accepts exactly what the
 * consumers will accept. (Fastify's default would coerce and strip.)
 */
export const strictBody: FastifySchemaCompiler<unknown> = ({ schema }) =>
  ajv.compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;

/** OpenAPI security of every authenticated route. */
export const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
