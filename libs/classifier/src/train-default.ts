/**
 * Reproduces the shipped models: `tsx libs/classifier/src/train-default.ts
 * [--data-dir DIR]`. Trains on the ticket training split only (dev stays for reporting),
 * with fixed seeds, so the same data gives byte-identical model files.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runClassifyCli } from './cli.js';
import { defaultModelPath, type DefaultModelTask } from './default-model.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
// The shared data sits next to the repository checkout: <root>/../shared/data.
const dataDir =
  values['data-dir'] ?? fileURLToPath(new URL('../../../../shared/data', import.meta.url));
const trainCsv = `${dataDir}/tickets/support-tickets-en.train.csv`;

const io = {
  stdout: (s: string) => process.stdout.write(s),
  stderr: (s: string) => process.stderr.write(s),
  stdin: () => Promise.resolve(''),
};

for (const task of ['queue', 'priority'] satisfies DefaultModelTask[]) {
  const args = ['train', '--data', trainCsv, '--text', 'subject,body', '--label', task];
  const code = await runClassifyCli([...args, '--out', defaultModelPath(task), '--seed', '42'], io);
  if (code !== 0) process.exit(code);
}
