import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { sharedDataDir } from '../../../../test/support/shared-data.js';

/** Shared, read-only third-party fixtures (see shared/data/README.md beside the repo). */
export const DATA_DIR = sharedDataDir();

export function listFiles(dir: string, filter: (name: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, filter));
    else if (filter(name)) out.push(full);
  }
  return out;
}
