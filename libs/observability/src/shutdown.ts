import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** After this, the process exits with code 1 even if a step still runs. */
  deadlineMs?: number;
  /** Called at the end; process.exit by default (tests pass their own). */
  exit?: (code: number) => void;
}

export interface Shutdown {
  /** Steps run in the order they are added: stop intake first, close pools last. */
  add(name: string, step: () => Promise<unknown>): void;
  /** Runs every step once; later calls return the same promise. */
  run(reason: string): Promise<void>;
  /** SIGTERM/SIGINT start the shutdown; a second signal forces exit. */
  installSignalHandlers(): void;
}

/** The one shutdown path of a process (STYLE.md rule 6). */
export function createShutdown(options: ShutdownOptions): Shutdown {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const deadlineMs = options.deadlineMs ?? 30_000;
  const steps: { name: string; step: () => Promise<unknown> }[] = [];
  let running: Promise<void> | undefined;

  const run = (reason: string): Promise<void> => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs }, 'shutdown deadline passed, exiting');
        exit(1);
      }, deadlineMs);
      deadline.unref();
      let failed = false;
      for (const { name, step } of steps) {
        try {
          await step();
          logger.debug({ step: name }, 'shutdown step done');
        } catch (err) {
          failed = true;
          logger.error({ err, step: name }, 'shutdown step failed');
        }
      }
      clearTimeout(deadline);
      logger.info('shutdown complete');
      logger.flush?.();
      exit(failed ? 1 : 0);
    })();
    return running;
  };

  return {
    add: (name, step) => void steps.push({ name, step }),
    run,
    installSignalHandlers: () => {
      let firstAt = 0;
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.on(signal, () => {
          // Wrappers (npm, tsx) relay the terminal's Ctrl-C, so one keypress can arrive
          // twice within milliseconds: only a later signal is a person insisting.
          if (running && Date.now() - firstAt < 1_000) return;
          if (running) {
            logger.warn({ signal }, 'second signal: forcing exit');
            exit(130);
            return;
          }
          firstAt = Date.now();
          void run(signal);
        });
      }
    },
  };
}
