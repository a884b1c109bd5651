import pg from 'pg';

export interface PoolOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Upper bound of open connections. */
  max?: number;
  /** Shown in pg_stat_activity, so an operator sees which app holds a connection. */
  applicationName?: string;
  /** Called for errors of idle clients (server restart, network); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

/** A pg pool whose idle-client errors are reported instead of crashing the process. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'mailroom',
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  // A client that is checked out but between queries (inside a transaction while the app
  // awaits Kafka, say) gets the server's FATAL on restart as an 'error' event, which the
  // pool listens to only while the client is idle: without a listener of its own, that
  // event kills the process. The error is not lost: the client is no longer queryable, so
  // its next query fails in the caller (which retries), and its release removes it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
