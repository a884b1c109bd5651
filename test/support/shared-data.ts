// Where the third-party data of ../shared/data lives: beside the repository (as on the
// developers' machines and in CI), or where MAILROOM_SHARED_DATA points.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const beside = fileURLToPath(new URL('../../../shared/data', import.meta.url));

export function sharedDataDir(): string {
  const dir = process.env.MAILROOM_SHARED_DATA ?? beside;
  if (!existsSync(dir)) {
    throw new Error(
      `shared data not found at ${dir}: clone the repo beside shared/ or set MAILROOM_SHARED_DATA`,
    );
  }
  return dir;
}
