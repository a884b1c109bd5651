import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread on a sibling module (`name` without extension): TypeScript under tsx
 * (a loader given by --import does not reach a worker's entry module on Node 20, so
 * the thread registers tsx itself) or compiled JavaScript.
 */
export function startThread(name: string, options: WorkerOptions): Worker {
  const self = import.meta.url;
  const ext = self.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./${name}${ext}`, self);
  if (ext === '.js') return new Worker(entry, options);
  // tsx's ESM entry (its CommonJS one registers nothing for ESM).
  const tsx =
    typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';
  return new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); ` +
      `return import(${JSON.stringify(entry.href)}); })`,
    { ...options, eval: true },
  );
}
