// kafkajs 2.2.4 (its last release) keeps a 1 ms timer running on every broker connection
// once it has answered a request: RequestQueue.scheduleCheckPendingRequests arms a
// timeout of `throttledUntil - now`, negative when nothing is throttled, even with
// nothing pending, and the check it runs arms the next one (tulios/kafkajs#1556, #1704;
// fix proposed in PR #1667, not released). Each app spent about 4% of a core on it while
// idle, and more under load (one wake-up per millisecond per connection). This applies
// that fix to the class kafkajs itself uses: with nothing pending and no throttle, there
// is nothing to check; a new request is sent or queued by push(), and an answer checks
// the queue again.
import { createRequire } from 'node:module';

/** The internals of kafkajs's RequestQueue this fix reads and replaces. */
export interface KafkajsRequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's value of CHECK_PENDING_REQUESTS_INTERVAL (ms). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

const require = createRequire(import.meta.url);

/** The class kafkajs's connections use (same module instance as `import 'kafkajs'`). */
export interface KafkajsRequestQueueClass {
  new (options: {
    maxInFlightRequests: number | null;
    requestTimeout: number;
    enforceRequestTimeout: boolean;
    clientId: string;
    broker: string;
    logger: Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void>;
  }): KafkajsRequestQueue;
  prototype: KafkajsRequestQueue;
}
export const kafkajsRequestQueue = (): KafkajsRequestQueueClass =>
  require('kafkajs/src/network/requestQueue/index.js') as KafkajsRequestQueueClass;

function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
  if (this.throttleCheckTimeoutId) return;
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.pending.length > 0) {
    scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  } else if (scheduleAt <= 0) {
    return;
  }
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

kafkajsRequestQueue().prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
