/** What the commands touch of the outside world; main.ts wires the process, tests fakes. */
export interface MailroomCliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  stdin(): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  /** Defaults for options that mirror the apps' config (e.g. DATABASE_URL). */
  env: Readonly<Record<string, string | undefined>>;
}

export const USAGE = `usage: mailroom <command> ...

  mail inspect FILE.eml          parse a message: headers, automated?, reply text, thread hints (JSON)
  classify train|eval|predict    the local text classifier on any labeled CSV (mailroom classify help)
  classify retrain --out MODEL [--database-url URL] [--data FILE.csv] [--taxonomy FILE]
                                 retrain the department model from manual reroutes + training data
  help                           this text

Exit codes: 0 ok, 1 failure, 2 usage or input error.
`;

/**
 * Dispatches `mailroom …`; returns the exit code (the bin sets it, tests read it). Each
 * command imports its libraries when it runs: `classify train` has no use for the
 * database, event schemas and taxonomy that retrain loads.
 */
export async function runMailroomCli(argv: readonly string[], io: MailroomCliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'mail': {
      const { runMailCli } = await import('@mailroom/mail');
      return runMailCli(rest, {
        stdout: { write: (s: string) => io.stdout(s) },
        stderr: { write: (s: string) => io.stderr(s) },
        readFile: (path: string) => io.readFile(path),
      });
    }
    case 'classify': {
      if (rest[0] === 'retrain') {
        const { runRetrain } = await import('./retrain.js');
        return runRetrain(rest.slice(1), io);
      }
      const { runClassifyCli } = await import('@mailroom/classifier');
      return runClassifyCli(rest, io);
    }
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return 0;
    default:
      io.stderr(
        command === undefined ? USAGE : `mailroom: unknown command "${command}"\n\n${USAGE}`,
      );
      return 2;
  }
}
