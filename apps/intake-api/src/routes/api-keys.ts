import { Type } from '@sinclair/typebox';
import { DateTime, Uuid } from '@mailroom/events';
import type { App, AppDeps } from '../app-types.js';
import { generateKey, hashKey, SCOPES } from '../api-keys.js';
import { ACCESS } from '../auth.js';
import { conflict, ErrorBody, notFound } from '../errors.js';
import { SECURITY, strictBody } from '../route-options.js';

const Scope = Type.Union(SCOPES.map((s) => Type.Literal(s)));
const KeyInfo = Type.Object({
  id: Uuid,
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: DateTime,
  revokedAt: Type.Union([DateTime, Type.Null()]),
});
const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

/** Key administration (admin scope): create (the key is shown once), list, revoke. */
export function registerApiKeyAdmin(app: App, deps: AppDeps): void {
  app.post(
    '/api/keys',
    {
      config: { scopes: ACCESS.admin },
      validatorCompiler: strictBody,
      schema: {
        tags: ['keys'],
        summary: 'Create an API key; the answer holds the key, which is never shown again',
        security: SECURITY,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }),
            scopes: Type.Array(Scope, { minItems: 1, maxItems: 3, uniqueItems: true }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Composite([KeyInfo, Type.Object({ key: Type.String() })]),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const key = generateKey();
      const { rows } = await deps.pool.query<{ id: string; created_at: Date }>(
        `INSERT INTO api_keys (id, name, key_hash, scopes) VALUES (gen_random_uuid(), $1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING id, created_at`,
        [request.body.name, hashKey(key), request.body.scopes],
      );
      const row = rows[0];
      if (!row) throw conflict('NAME_TAKEN', `an API key named ${request.body.name} exists`);
      return reply.code(201).send({
        id: row.id,
        name: request.body.name,
        scopes: request.body.scopes,
        createdAt: row.created_at.toISOString(),
        revokedAt: null,
        key,
      });
    },
  );

  app.get(
    '/api/keys',
    {
      config: { scopes: ACCESS.admin },
      schema: {
        tags: ['keys'],
        summary: 'API keys (never the keys themselves)',
        security: SECURITY,
        response: { 200: Type.Object({ items: Type.Array(KeyInfo) }), ...errors },
      },
    },
    async () => {
      const { rows } = await deps.pool.query<{
        id: string;
        name: string;
        scopes: string[];
        created_at: Date;
        revoked_at: Date | null;
      }>('SELECT id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at, name');
      return {
        items: rows.map((r) => ({
          id: r.id,
          name: r.name,
          scopes: r.scopes,
          createdAt: r.created_at.toISOString(),
          revokedAt: r.revoked_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.delete(
    '/api/keys/:id',
    {
      config: { scopes: ACCESS.admin },
      schema: {
        tags: ['keys'],
        summary: 'Revoke an API key (effective on other instances within the cache time)',
        security: SECURITY,
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null({ description: 'revoked' }), ...errors },
      },
    },
    async (request, reply) => {
      const { rowCount } = await deps.pool.query(
        'UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1',
        [request.params.id],
      );
      if (rowCount === 0) throw notFound(`API key ${request.params.id}`);
      deps.apiKeys.invalidate();
      return reply.code(204).send(null);
    },
  );
}
