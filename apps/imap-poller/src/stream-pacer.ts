import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A large message arrives in 1 MiB IMAP chunks and each chunk is copied a few times on
// its way (IMAP literal, parser strings, base64 output, 512 KiB blob rows), so a 34 MB
// message allocates a few hundred MB that live for a moment. V8 frees garbage Buffers
// only once 64 MiB of them piled up, and keeps 1 MiB strings in its large-object space:
// left alone, a 25 MB attachment raised the peak RSS by two to three times its size
// although no more than a few chunks are ever alive. Slicing the stream keeps the
// strings small; a full collection every few MiB returns the Buffers. It costs time
// (tens of ms each), which only large messages pay; small ones never come here.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const SLICE_BYTES = 64 * 1024;
const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

/** Passes a large message through in slices, collecting garbage every few MiB. */
export class StreamPacer extends Transform {
  private sinceCollect = 0;
  /** Collections this stream triggered. */
  collections = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (let at = 0; at < chunk.length; at += SLICE_BYTES) {
      this.push(chunk.subarray(at, at + SLICE_BYTES));
    }
    this.sinceCollect += chunk.length;
    if (this.sinceCollect >= COLLECT_EVERY_BYTES) {
      this.sinceCollect = 0;
      this.collections++;
      collectGarbage();
    }
    done();
  }
}

/** `source` through a pacer; an error of the source ends the paced stream with it. */
export function paced(source: Readable): StreamPacer {
  const pacer = new StreamPacer();
  source.once('error', (err) => pacer.destroy(err));
  return source.pipe(pacer);
}
