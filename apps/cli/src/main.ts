import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { runMailroomCli } from './run-cli.js';

// The only place that touches the process: argv, stdio, environment and exit code.
process.exitCode = await runMailroomCli(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdin: () => text(process.stdin),
  readFile: (path) => readFile(path),
  env: {
    DATABASE_URL: process.env.DATABASE_URL,
    MAILROOM_SHARED_DATA: process.env.MAILROOM_SHARED_DATA,
  },
});
