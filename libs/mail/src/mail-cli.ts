import { inspectMail } from './inspect-mail.js';

export interface MailCliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  readFile(path: string): Promise<Buffer>;
}

const USAGE = 'usage: mailroom mail inspect FILE.eml\n';

/**
 * `mail inspect FILE.eml`: prints the inspection as JSON. Exit code 0 for every
 * message, malformed or not (the JSON says what is wrong); 2 for usage errors and
 * 1 when the file cannot be read.
 */
export async function runMailCli(argv: readonly string[], io: MailCliIo): Promise<number> {
  const args = argv[0] === 'mail' ? argv.slice(1) : argv;
  const [command, file, ...rest] = args;
  if (command !== 'inspect' || !file || rest.length > 0) {
    io.stderr.write(USAGE);
    return 2;
  }
  let source: Buffer;
  try {
    source = await io.readFile(file);
  } catch (err) {
    io.stderr.write(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const result = await inspectMail(source);
  io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
