export { createPool, withTransaction, type PoolOptions } from './pool.js';
export { migrate, MIGRATIONS_DIR, type MigrateOptions } from './migrate.js';
