// A circuit breaker in front of the LLM: when the API keeps failing we stop paying
// timeouts and retries for every ticket and let the local model answer at once;
// after a cool-down one probe request finds out whether the API is back.
//
// closed --(N consecutive failures, or failure rate over a window)--> open
// open --(cool-down elapsed)--> half_open --(probe succeeds)--> closed
//                                         --(probe fails)-----> open

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** Failure ratio over the last `windowSize` outcomes that opens it (0..1; 1 = off). */
  failureRateThreshold: number;
  windowSize: number;
  /** The rate rule applies only once the window holds this many outcomes. */
  minimumRequests: number;
  cooldownMs: number;
  /** Concurrent probes allowed while half-open. */
  halfOpenMaxProbes: number;
  now?: () => number;
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  failureThreshold: 5,
  failureRateThreshold: 0.5,
  windowSize: 20,
  minimumRequests: 10,
  cooldownMs: 30_000,
  halfOpenMaxProbes: 1,
};

/** One admitted call; settle it exactly once (later calls are ignored). */
export interface CircuitPermit {
  success(): void;
  failure(): void;
  /** Neither (e.g. the caller aborted): frees a half-open probe slot. */
  ignore(): void;
}

export interface CircuitBreaker {
  readonly state: CircuitState;
  /** Milliseconds until an open circuit admits a probe (0 when not open). */
  retryInMs(): number;
  /** A permit, or undefined when the call must not be made. */
  acquire(): CircuitPermit | undefined;
}

export function createCircuitBreaker(options: Partial<CircuitBreakerOptions> = {}): CircuitBreaker {
  const opts = { ...DEFAULT_BREAKER_OPTIONS, ...options };
  const now = opts.now ?? Date.now;
  let state: CircuitState = 'closed';
  let openedAt = 0;
  let consecutiveFailures = 0;
  let window: boolean[] = []; // true = failure
  let probes = 0;

  function transition(to: CircuitState): void {
    if (to === state) return;
    const from = state;
    state = to;
    if (to === 'open') openedAt = now();
    if (to === 'closed') {
      consecutiveFailures = 0;
      window = [];
    }
    if (to !== 'half_open') probes = 0;
    opts.onStateChange?.(from, to);
  }

  // The open -> half_open step happens lazily, when someone looks: no timers to leak.
  function current(): CircuitState {
    if (state === 'open' && now() - openedAt >= opts.cooldownMs) transition('half_open');
    return state;
  }

  function record(failed: boolean, wasProbe: boolean): void {
    if (wasProbe) probes = Math.max(0, probes - 1);
    if (state === 'half_open') {
      if (wasProbe) transition(failed ? 'open' : 'closed');
      return;
    }
    if (state === 'open') return; // a straggler that started before the circuit opened
    consecutiveFailures = failed ? consecutiveFailures + 1 : 0;
    window.push(failed);
    if (window.length > opts.windowSize) window.shift();
    const failures = window.filter(Boolean).length;
    const rateTripped =
      window.length >= opts.minimumRequests &&
      failures / window.length >= opts.failureRateThreshold;
    if (consecutiveFailures >= opts.failureThreshold || rateTripped) transition('open');
  }

  return {
    get state() {
      return current();
    },
    retryInMs() {
      return current() === 'open' ? Math.max(0, opts.cooldownMs - (now() - openedAt)) : 0;
    },
    acquire() {
      const s = current();
      if (s === 'open') return undefined;
      const isProbe = s === 'half_open';
      if (isProbe) {
        if (probes >= opts.halfOpenMaxProbes) return undefined;
        probes++;
      }
      let settled = false;
      const settle = (outcome: 'success' | 'failure' | 'ignore') => {
        if (settled) return;
        settled = true;
        if (outcome === 'ignore') {
          if (isProbe) probes = Math.max(0, probes - 1);
          return;
        }
        record(outcome === 'failure', isProbe);
      };
      return {
        success: () => settle('success'),
        failure: () => settle('failure'),
        ignore: () => settle('ignore'),
      };
    },
  };
}

/** The numeric value of the circuit-state gauge: 0 closed, 1 half-open, 2 open. */
export function circuitStateValue(state: CircuitState): number {
  return state === 'closed' ? 0 : state === 'half_open' ? 1 : 2;
}
