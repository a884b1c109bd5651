// A parse thread (see parse-pool.ts): single-part text mail of a batch parsed and built
// into its record here, off the thread that reads IMAP, stores blobs and produces.
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectAutomatedOptions } from '@mailroom/mail';
import { ingestSimple, warmUp, type IngestDeps } from './ingest-message.js';
import type { ParseReply, ParseRequest } from './parse-pool.js';

const noBlobs = (): never => {
  throw new Error('a parse thread stores no blobs: mail with parts goes to the full parser');
};
const deps: IngestDeps = {
  blobs: { put: noBlobs, putMany: noBlobs, putStream: noBlobs, get: noBlobs },
  automated: (workerData as { automated: DetectAutomatedOptions }).automated,
};

const port = parentPort!;
port.on('message', (req: ParseRequest) => {
  const data = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength);
  const results: ParseReply['results'] = [];
  let at = 0;
  for (let i = 0; i < req.uids.length; i++) {
    const source = data.subarray(at, req.ends[i]);
    at = req.ends[i]!;
    const origin = {
      mailbox: req.mailbox,
      uidValidity: req.uidValidity,
      uid: req.uids[i]!,
      size: req.sizes[i]!,
    };
    try {
      results.push(
        ingestSimple(source, { sha256: req.sha256[i]!, size: source.length }, origin, deps),
      );
    } catch {
      // The calling thread runs it again and judges the error there (dead letter or retry).
      results.push('again');
    }
  }
  port.postMessage({ id: req.id, results } satisfies ParseReply);
});

// Loads the parser and compiles the record schema before the first batch.
await warmUp(deps);
port.postMessage('ready');
