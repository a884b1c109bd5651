// Builds apps/console into apps/console/dist when it is missing or older than its
// sources, so the browser test always runs the console of this checkout.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
export const CONSOLE_DIR = join(root, 'apps', 'console');
const INDEX = join(CONSOLE_DIR, 'dist', 'index.html');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `vite build` in apps/console unless dist is newer than every source file. */
export async function ensureConsoleBuilt(): Promise<'built' | 'up to date'> {
  const sources = Math.max(
    newestSource(join(CONSOLE_DIR, 'src')),
    statSync(join(CONSOLE_DIR, 'index.html')).mtimeMs,
    statSync(join(CONSOLE_DIR, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(INDEX) && statSync(INDEX).mtimeMs >= sources) return 'up to date';
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: CONSOLE_DIR,
  });
  return 'built';
}
