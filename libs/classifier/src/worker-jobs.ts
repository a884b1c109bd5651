import { Worker } from 'node:worker_threads';
import type { LabeledExample } from './csv.js';
import type { Evaluation } from './metrics.js';
import type { MlpHead, MlpOptions } from './mlp.js';
import type { SparseMatrix } from './tfidf.js';

/** Networks to train, one after the other, on the same rows. */
export interface MlpJob {
  kind: 'mlp';
  x: SparseMatrix;
  y: Int32Array;
  numClasses: number;
  nets: MlpOptions[];
}

/** The baseline trained on `train` and measured on `valid`. */
export interface BaselineJob {
  kind: 'baseline';
  train: readonly LabeledExample[];
  valid: readonly LabeledExample[];
  seed: number;
}

export type WorkerJob = MlpJob | BaselineJob;

// The worker's module, in the form this one runs in (TypeScript through tsx, or built).
const WORKER_MODULE = new URL(
  import.meta.url.endsWith('.ts') ? './classifier-worker.ts' : './classifier-worker.js',
  import.meta.url,
).href;
const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/**
 * Runs one job on a new worker thread and resolves with the one message it answers.
 * Aborting terminates the worker (a training that failed elsewhere need not wait for it).
 */
function runJob<T>(job: WorkerJob, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const worker = new Worker(ENTRY, { workerData: { module: WORKER_MODULE, job } });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      settle(() => reject(signal!.reason as Error));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (result: T) => settle(() => resolve(result)));
    worker.once('error', (err) => settle(() => reject(err)));
    worker.once('exit', (code) =>
      settle(() =>
        reject(new Error(`classifier worker exited with code ${code} before answering`)),
      ),
    );
  });
}

/** A copy of the array in shared memory: every worker reads it, none copies it again. */
function shared<T extends Int32Array | Float32Array>(a: T, make: (b: SharedArrayBuffer) => T): T {
  const out = make(new SharedArrayBuffer(a.byteLength));
  out.set(a);
  return out;
}

/**
 * Trains networks (trainMlp, in `nets` order) on a worker thread. The rows go over as
 * shared memory, the weights come back transferred: neither is copied by a message.
 */
export function trainMlpsInWorker(
  x: SparseMatrix,
  y: Int32Array,
  numClasses: number,
  nets: MlpOptions[],
  signal?: AbortSignal,
): Promise<MlpHead[]> {
  const job: MlpJob = {
    kind: 'mlp',
    x: {
      indptr: shared(x.indptr, (b) => new Int32Array(b)),
      indices: shared(x.indices, (b) => new Int32Array(b)),
      values: shared(x.values, (b) => new Float32Array(b)),
      numRows: x.numRows,
      numFeatures: x.numFeatures,
    },
    y: shared(y, (b) => new Int32Array(b)),
    numClasses,
    nets,
  };
  return runJob<MlpHead[]>(job, signal);
}

/** The baseline's evaluation on `valid`, computed on a worker thread. */
export function evaluateBaselineInWorker(
  train: readonly LabeledExample[],
  valid: readonly LabeledExample[],
  seed: number,
  signal?: AbortSignal,
): Promise<Evaluation> {
  return runJob<Evaluation>({ kind: 'baseline', train, valid, seed }, signal);
}
