import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';

type RunMigration = Awaited<ReturnType<typeof runner>>[number];

/** The project's migrations: plain SQL files with `-- Up Migration` / `-- Down Migration`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export interface MigrateOptions {
  url: string;
  direction?: 'up' | 'down';
  /** How many migrations to apply or revert; all pending ones by default (up), one (down). */
  count?: number;
  dir?: string;
  /** Schema to migrate (public by default); its migrations table lives there too. */
  schema?: string;
  log?: (msg: string) => void;
}

/**
 * Applies the migrations under an advisory lock (node-pg-migrate's), so two processes
 * migrating at once wait for each other instead of racing. Returns what ran.
 */
export async function migrate(options: MigrateOptions): Promise<RunMigration[]> {
  const direction = options.direction ?? 'up';
  return runner({
    databaseUrl: options.url,
    dir: options.dir ?? MIGRATIONS_DIR,
    direction,
    count: options.count ?? (direction === 'up' ? Infinity : 1),
    migrationsTable: 'pgmigrations',
    schema: options.schema ?? 'public',
    // Apps add migrations independently; order by name, but tolerate one applied late.
    checkOrder: false,
    singleTransaction: true,
    log: options.log ?? (() => undefined),
    verbose: false,
  });
}
