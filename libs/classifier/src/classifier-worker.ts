import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerJob } from './worker-jobs.js';

// The body of a worker started by worker-jobs.ts: one job, one answer, then exit. A
// throw here reaches the parent as the worker's 'error' event. Each job imports only
// what it needs: a network's worker then starts in a fraction of the baseline's time.
const job = (workerData as { job: WorkerJob }).job;
if (job.kind === 'mlp') {
  const { trainMlp } = await import('./mlp.js');
  const nets = job.nets.map((opts) => trainMlp(job.x, job.y, job.numClasses, opts));
  const buffers = nets.flatMap((n) =>
    [n.hidden.weights, n.hidden.bias, n.output.weights, n.output.bias].map(
      // Fresh arrays of trainMlp's own: their buffers are plain, not shared.
      (a) => a.buffer as ArrayBuffer,
    ),
  );
  parentPort!.postMessage(nets, buffers);
} else {
  const { trainBaseline } = await import('./baseline.js');
  const { evaluateClassifier } = await import('./evaluate-model.js');
  parentPort!.postMessage(evaluateClassifier(trainBaseline(job.train, job.seed), job.valid));
}
