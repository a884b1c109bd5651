import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { ApiKey, ApiKeyStore, Scope } from './api-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's API key, set by the auth hook on routes that require one. */
    apiKey?: ApiKey;
  }
  interface FastifyContextConfig {
    /** Scopes of which the caller needs one; a route without it is public. */
    scopes?: readonly Scope[];
  }
}

/** Who may do what: intake keys only submit, agents read and change, admins all. */
export const ACCESS = {
  submit: ['intake', 'agent', 'admin'],
  agent: ['agent', 'admin'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Scope[]>;

function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header ? header : undefined;
}

/** The caller's key; throws 401/403 as data. */
export function requireKey(request: FastifyRequest): ApiKey {
  if (!request.apiKey) throw new ApiError(401, 'UNAUTHENTICATED', 'an API key is required');
  return request.apiKey;
}

/**
 * Authenticates every route that declares `config.scopes`, before its body is read:
 * `Authorization: Bearer <key>` or `X-Api-Key: <key>`. 401 for a missing or unknown
 * key, 403 for a key without a required scope.
 */
export function installAuth(app: FastifyInstance, keys: ApiKeyStore): void {
  app.addHook('onRequest', async (request) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes) return;
    const key = presentedKey(request);
    if (!key) {
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
      );
    }
    const apiKey = await keys.lookup(key);
    if (!apiKey) throw new ApiError(401, 'INVALID_API_KEY', 'unknown or revoked API key');
    if (!apiKey.scopes.some((s) => scopes.includes(s))) {
      throw new ApiError(
        403,
        'FORBIDDEN',
        `this API key lacks the scope for this operation (needs one of: ${scopes.join(', ')})`,
      );
    }
    request.apiKey = apiKey;
  });
}
