/**
 * Capped exponential backoff with full jitter: reconnecting pollers of many mailboxes
 * spread out instead of hammering a server that just came back.
 */
export function backoffDelay(
  attempt: number,
  { initialMs = 500, maxMs = 60_000, random = Math.random } = {},
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt));
  // Half fixed, half random: never zero (a tight loop), never above the cap.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
