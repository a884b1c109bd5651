import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Shared, read-only third-party fixtures (see /work/shared/data/README.md). */
export const DATA_DIR = '/work/shared/data';

export function listFiles(dir: string, filter: (name: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, filter));
    else if (filter(name)) out.push(full);
  }
  return out;
}
