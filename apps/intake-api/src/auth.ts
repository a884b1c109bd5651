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
 * A fixed window per API key: at most `max` requests per minute. Returns 0 when the
 * request may go on, else the milliseconds until the key's window ends.
 */
export function createRateLimiter(max: number, windowMs = 60_000): (id: string) => number {
  const windows = new Map<string, { count: number; resetAt: number }>();
  return (id) => {
    const now = Date.now();
    let w = windows.get(id);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      windows.set(id, w);
    }
    w.count += 1;
    return w.count > max ? w.resetAt - now : 0;
  };
}

/**
 * Authenticates every route that declares `config.scopes`, before its body is read:
 * `Authorization: Bearer <key>` or `X-Api-Key: <key>`. 401 for a missing or unknown
 * key, 403 for a key without a required scope, 429 (with Retry-After) for a key over
 * `rateLimitPerMinute`. Routes without scopes (health, metrics, docs) are neither
 * authenticated nor limited. A callback hook: a cached key costs no promise.
 */
export function installAuth(
  app: FastifyInstance,
  keys: ApiKeyStore,
  rateLimitPerMinute: number,
): void {
  const overLimit = createRateLimiter(rateLimitPerMinute);
  const authorize = (
    request: FastifyRequest,
    scopes: readonly Scope[],
    apiKey: ApiKey | undefined,
  ): ApiError | undefined => {
    if (!apiKey) return new ApiError(401, 'INVALID_API_KEY', 'unknown or revoked API key');
    if (!apiKey.scopes.some((s) => scopes.includes(s))) {
      return new ApiError(
        403,
        'FORBIDDEN',
        `this API key lacks the scope for this operation (needs one of: ${scopes.join(', ')})`,
      );
    }
    const waitMs = overLimit(apiKey.id);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      return new ApiError(
        429,
        'RATE_LIMITED',
        `rate limit of ${rateLimitPerMinute} requests per minute exceeded, retry in ${seconds} s`,
        { retriable: true, retryAfterSeconds: seconds },
      );
    }
    request.apiKey = apiKey;
    return undefined;
  };

  app.addHook('onRequest', (request, _reply, done) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes) {
      done();
      return;
    }
    const key = presentedKey(request);
    if (!key) {
      done(
        new ApiError(
          401,
          'UNAUTHENTICATED',
          'an API key is required (Authorization: Bearer <key> or X-Api-Key)',
        ),
      );
      return;
    }
    const cached = keys.cached(key);
    if (cached) {
      done(authorize(request, scopes, cached.apiKey));
      return;
    }
    keys.lookup(key).then((apiKey) => done(authorize(request, scopes, apiKey)), done);
  });
}
