// Entry point of the classifier's worker threads. Node 20 does not apply the parent's
// module hooks (tsx) to a worker (nodejs/node#47747) and refuses a .ts entry, so a
// worker that runs the TypeScript sources registers tsx itself, then imports its module.
import { workerData } from 'node:worker_threads';

const { module } = workerData;
if (module.endsWith('.ts')) (await import('tsx/esm/api')).register();
await import(module);
