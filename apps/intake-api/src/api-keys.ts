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
  /** The cached answer for this plaintext, if there is a fresh one (no await needed). */
  cached(key: string): { apiKey: ApiKey | undefined } | undefined;
  /** Forgets cached lookups (after a revocation on this instance). */
  invalidate(): void;
}

interface CacheEntry {
  expires: number;
  touched: number;
  /** Set once the query answered. */
  answer?: { apiKey: ApiKey | undefined };
  /** The query in flight: concurrent requests with the same key share it. */
  pending: Promise<ApiKey | undefined>;
}

/**
 * Looks keys up by their SHA-256, with an in-memory LRU cache keyed by the presented key
 * so that the hot path (every request) neither hashes nor hits Postgres: a key is hashed
 * and queried once per `ttlMs`, by one request however many arrive together. A
 * revocation takes effect within `ttlMs` on other instances. Unknown keys are cached
 * too, for a shorter time, so that a client hammering with a bad key costs no queries.
 */
export function createApiKeyStore(pool: pg.Pool, ttlMs = 30_000, maxEntries = 10_000): ApiKeyStore {
  const cache = new Map<string, CacheEntry>();
  const query = async (hash: string): Promise<ApiKey | undefined> => {
    const { rows } = await pool.query<{ id: string; name: string; scopes: Scope[] }>(
      'SELECT id, name, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return rows[0] ? { id: rows[0].id, name: rows[0].name, scopes: rows[0].scopes } : undefined;
  };
  const fresh = (key: string): CacheEntry | undefined => {
    const hit = cache.get(key);
    if (!hit) return undefined;
    const now = Date.now();
    if (hit.expires <= now && hit.answer) {
      cache.delete(key);
      return undefined;
    }
    // Most recently used last (the first entry is the one to evict); moved at most once
    // a second, not on every request.
    if (hit.touched < now - 1000) {
      hit.touched = now;
      cache.delete(key);
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    invalidate: () => cache.clear(),
    cached: (key) => fresh(key)?.answer,
    lookup: (key) => {
      const hit = fresh(key);
      if (hit) return hit.pending;
      const entry: CacheEntry = {
        expires: Infinity,
        touched: Date.now(),
        pending: query(hashKey(key)).then(
          (apiKey) => {
            entry.answer = { apiKey };
            entry.expires = Date.now() + (apiKey ? ttlMs : Math.min(ttlMs, 5_000));
            return apiKey;
          },
          (err: unknown) => {
            if (cache.get(key) === entry) cache.delete(key);
            throw err;
          },
        ),
      };
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, entry);
      return entry.pending;
    },
  };
}
