import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { deterministicId } from '@mailroom/events';

export type Scope = 'intake' | 'agent' | 'admin';
export const SCOPES: readonly Scope[] = ['intake', 'agent', 'admin'];

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
}

export const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new random key, shown once; only its hash is stored. */
export const generateKey = () => `mr_${randomBytes(24).toString('base64url')}`;

export class ApiKeyConfigError extends Error {
  readonly code = 'API_KEYS_INVALID';
  readonly retriable = false;
}

export interface BootstrapKey {
  name: string;
  scopes: Scope[];
  key: string;
}

/** Parses BOOTSTRAP_API_KEYS: "name:scope+scope:key,..." (keys may contain ':'). */
export function parseBootstrapKeys(spec: string): BootstrapKey[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, scopeList, ...rest] = entry.split(':');
      const key = rest.join(':');
      const scopes = (scopeList ?? '').split('+').filter(Boolean);
      const bad = scopes.filter((s) => !SCOPES.includes(s as Scope));
      if (!name || !key || scopes.length === 0 || bad.length > 0 || key.length < 16) {
        throw new ApiKeyConfigError(
          `BOOTSTRAP_API_KEYS entry "${name ?? ''}:…" must be name:scope+scope:key with scopes ` +
            `of ${SCOPES.join('/')} and a key of at least 16 characters`,
        );
      }
      return { name, scopes: scopes as Scope[], key };
    });
}

/** Inserts or updates (by name) a key; a revoked key of that name is restored. */
export async function upsertApiKey(pool: pg.Pool, key: BootstrapKey): Promise<ApiKey> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO api_keys (id, name, key_hash, scopes) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE
       SET key_hash = EXCLUDED.key_hash, scopes = EXCLUDED.scopes, revoked_at = NULL
     RETURNING id`,
    [deterministicId('api-key', key.name), key.name, hashKey(key.key), key.scopes],
  );
  return { id: rows[0]!.id, name: key.name, scopes: key.scopes };
}

export interface ApiKeyStore {
  /** The active key with this plaintext, or undefined; cached for `ttlMs`. */
  lookup(key: string): Promise<ApiKey | undefined>;
  /** Forgets cached lookups (after a revocation on this instance). */
  invalidate(): void;
}

/**
 * Looks keys up by their SHA-256, with a small in-memory cache so that the hot path
 * (every request) does not hit Postgres. A revocation takes effect within `ttlMs` on
 * other instances. Unknown keys are cached too, for a shorter time, so that a client
 * hammering with a bad key costs no queries.
 */
export function createApiKeyStore(pool: pg.Pool, ttlMs = 30_000, maxEntries = 10_000): ApiKeyStore {
  const cache = new Map<string, { value: ApiKey | undefined; expires: number }>();
  return {
    invalidate: () => cache.clear(),
    lookup: async (key) => {
      const hash = hashKey(key);
      const now = Date.now();
      const hit = cache.get(hash);
      if (hit && hit.expires > now) return hit.value;
      const { rows } = await pool.query<{ id: string; name: string; scopes: Scope[] }>(
        'SELECT id, name, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      );
      const value = rows[0]
        ? { id: rows[0].id, name: rows[0].name, scopes: rows[0].scopes }
        : undefined;
      if (cache.size >= maxEntries) cache.clear();
      cache.set(hash, { value, expires: now + (value ? ttlMs : Math.min(ttlMs, 5_000)) });
      return value;
    },
  };
}
