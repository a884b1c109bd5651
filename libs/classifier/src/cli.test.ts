import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { parseCsv, readLabeledCsv } from './csv.js';
import { runClassifyCli } from './cli.js';
import { encodeModel } from './model-file.js';
import { stratifiedSplit } from './split.js';
import { BANKING_TRAIN, TICKETS_TRAIN } from './test-data.js';
import { trainFromExamples } from './train.js';
import { readFile } from 'node:fs/promises';

function io(stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void err.push(s),
      stdin: () => Promise.resolve(stdin),
    },
  };
}

// A 3-class taxonomy that has nothing to do with tickets.
const TOY_ROWS: [string, string][] = [];
const toy: Record<string, string[]> = {
  fruit: ['apple', 'banana', 'ripe mango', 'sweet cherry', 'juicy orange', 'green pear'],
  vehicle: ['truck', 'bicycle', 'fast car', 'red bus', 'electric scooter', 'old tractor'],
  weather: ['rain', 'snow storm', 'sunny sky', 'strong wind', 'thick fog', 'thunder'],
};
for (const [label, words] of Object.entries(toy)) {
  for (const w of words) {
    TOY_ROWS.push([`I saw a ${w} today`, label]);
    TOY_ROWS.push([`"${w}", again, here`, label]);
  }
}

let dir: string;
let ticketsSlice: string;
let heldOutSlice: string;
let toyCsv: string;
let bankingSlice: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'classifier-cli-'));
  // 400 ticket rows keep the CLI runs to a second or two.
  const rows = parseCsv(await readFile(TICKETS_TRAIN, 'utf8')).slice(0, 401);
  const quote = (f: string) => `"${f.replaceAll('"', '""')}"`;
  ticketsSlice = join(dir, 'tickets.csv');
  await writeFile(ticketsSlice, rows.map((r) => r.map(quote).join(',')).join('\r\n'));
  const more = parseCsv(await readFile(TICKETS_TRAIN, 'utf8'));
  heldOutSlice = join(dir, 'held-out.csv');
  await writeFile(
    heldOutSlice,
    [more[0]!, ...more.slice(401, 701)].map((r) => r.map(quote).join(',')).join('\n'),
  );
  // Every 20th row of banking77 train (500 rows): short texts, quick to train.
  const banking = parseCsv(await readFile(BANKING_TRAIN, 'utf8'));
  bankingSlice = join(dir, 'banking.csv');
  await writeFile(
    bankingSlice,
    banking
      .filter((_, i) => i % 20 === 0)
      .map((r) => r.map(quote).join(','))
      .join('\n'),
  );
  toyCsv = join(dir, 'toy.csv');
  await writeFile(
    toyCsv,
    ['text,kind', ...TOY_ROWS.map(([t, l]) => `${quote(t)},${l}`)].join('\n'),
  );
});

describe('classify CLI', () => {
  it('trains, evaluates against the baseline and predicts on tickets', async () => {
    const model = join(dir, 'queue.model.gz');
    const base = ['--text', 'subject,body', '--label', 'queue'];
    const t = io();
    expect(
      await runClassifyCli(
        ['classify', 'train', '--data', ticketsSlice, ...base, '--out', model],
        t.io,
      ),
    ).toBe(0);
    const summary = JSON.parse(t.out.join('')) as Record<string, unknown>;
    expect(summary).toMatchObject({ model, refit: true });
    for (const key of [
      'validation',
      'baseline',
      'delta',
      'temperature',
      'abstainThreshold',
      'bytes',
    ]) {
      expect(summary).toHaveProperty(key);
    }

    const e = io();
    const evalArgs = [
      'eval',
      '--model',
      model,
      '--data',
      ticketsSlice,
      ...base,
      '--baseline-train',
      ticketsSlice,
    ];
    expect(await runClassifyCli(evalArgs, e.io)).toBe(0);
    const report = JSON.parse(e.out.join('')) as Record<string, unknown>;
    for (const key of [
      'accuracy',
      'macroF1',
      'n',
      'abstained',
      'perClass',
      'confusion',
      'baseline',
    ]) {
      expect(report).toHaveProperty(key);
    }
    expect(report.n).toBe(400);
    expect(report.baseline).toEqual({ accuracy: expect.any(Number), macroF1: expect.any(Number) });

    // The abstain threshold fit on a validation split: a strict target abstains more.
    const tuned = io();
    const tuneArgs = ['eval', '--model', model, '--data', heldOutSlice, ...base];
    const strict = ['--valid-data', heldOutSlice, '--target-accuracy', '0.99'];
    expect(await runClassifyCli([...tuneArgs, ...strict], tuned.io)).toBe(0);
    const strictReport = JSON.parse(tuned.out.join('')) as Record<string, unknown>;
    expect(strictReport).toMatchObject({
      n: 300,
      abstainTunedOn: { data: 'held-out.csv', n: 300, targetAccuracy: 0.99, maxAbstainRate: 0.3 },
    });
    // A weak 400-row model cannot reach 99%: it abstains on the capped share, 30%.
    expect(strictReport.abstainThreshold).toBeGreaterThan(0);
    expect(strictReport.abstainRate).toBeCloseTo(0.3, 1);

    const p = io('Subject: invoice charged twice\n\nI was billed twice for my subscription.');
    expect(await runClassifyCli(['predict', '--model', model], p.io)).toBe(0);
    const pred = JSON.parse(p.out.join('')) as Record<string, unknown>;
    expect(Object.keys(pred).sort()).toEqual(['abstained', 'confidence', 'label', 'scores']);
    expect(pred.scores).toHaveLength(3);
  });

  it('trains --learner svm-mlp on worker threads: the model of an in-thread training', async () => {
    const model = join(dir, 'banking-mlp.model.gz');
    const t = io();
    const args = ['train', '--data', bankingSlice, '--text', 'text', '--label', 'category'];
    args.push('--learner', 'svm-mlp');
    expect(await runClassifyCli([...args, '--out', model, '--seed', '3'], t.io)).toBe(0);
    const summary = JSON.parse(t.out.join('')) as Record<string, unknown>;
    expect(summary).toMatchObject({ learner: 'svm-mlp', refit: true });
    expect(summary).toHaveProperty('baseline');
    expect(summary).toHaveProperty('delta');

    // What the command does, on this thread: the same split, options and metadata.
    const { examples } = await readLabeledCsv(bankingSlice, ['text'], 'category');
    const { train, valid } = stratifiedSplit(examples, 0.15, 3);
    const here = trainFromExamples(train, {
      seed: 3,
      learner: 'svm-mlp',
      classWeight: 'none',
      validation: valid,
      refit: true,
      abstain: {},
      meta: { textColumns: ['text'], labelColumn: 'category', trainedOn: 'banking.csv' },
    });
    const file = gunzipSync(await readFile(model));
    expect(file.equals(gunzipSync(encodeModel(here.classifier.data)))).toBe(true);

    const p = io('My card has still not arrived, when will it come?');
    expect(await runClassifyCli(['predict', '--model', model], p.io)).toBe(0);
    const pred = JSON.parse(p.out.join('')) as { label: string };
    expect(pred.label).toBe(
      here.classifier.predict('My card has still not arrived, when will it come?').label,
    );
  }, 120_000);

  it('works on any 3-class taxonomy', async () => {
    const model = join(dir, 'toy.model.gz');
    const t = io();
    const args = [
      'train',
      '--data',
      toyCsv,
      '--text',
      'text',
      '--label',
      'kind',
      '--out',
      model,
      '--valid',
      '0',
    ];
    expect(await runClassifyCli(args, t.io)).toBe(0);
    const p = io('a banana\nthe truck\nsnow\n');
    expect(await runClassifyCli(['predict', '--model', model, '--lines'], p.io)).toBe(0);
    const labels = p.out.map((l) => (JSON.parse(l) as { label: string }).label);
    expect(labels).toEqual(['fruit', 'vehicle', 'weather']);
  });

  it('exits 2 with a clear message on usage and input errors', async () => {
    const cases: [string[], RegExp][] = [
      [[], /usage: classify/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [
        ['train', '--data', toyCsv, '--label', 'kind', '--out', join(dir, 'x')],
        /--text is required/,
      ],
      [
        ['train', '--data', toyCsv, '--text', 'body', '--label', 'kind', '--out', join(dir, 'x')],
        /no column "body" \(columns: text, kind\)/,
      ],
      [
        [
          'train',
          '--data',
          join(dir, 'missing.csv'),
          '--text',
          'text',
          '--label',
          'kind',
          '--out',
          join(dir, 'x'),
        ],
        /cannot read .*missing\.csv/,
      ],
      [['eval', '--model', join(dir, 'missing.gz'), '--data', toyCsv], /cannot read model/],
      [['predict', '--model', toyCsv], /not gzip/],
      [['train', '--bogus'], /bogus/],
      [
        ['cv', '--data', toyCsv, '--text', 'text', '--label', 'kind', '--folds', '1'],
        /folds must be an integer/,
      ],
      [
        ['cv', '--data', toyCsv, '--text', 'text', '--label', 'kind', '--class-weight', 'x'],
        /--class-weight must be none or balanced/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = io();
      expect(await runClassifyCli(args, r.io), args.join(' ')).toBe(2);
      expect(r.err.join('')).toMatch(message);
    }
  });

  it('cross-validates C candidates next to the baseline on the same folds', async () => {
    const r = io();
    const args = ['cv', '--data', ticketsSlice, '--text', 'subject,body', '--label', 'priority'];
    expect(await runClassifyCli([...args, '--folds', '3', '--c', '0.3,1'], r.io)).toBe(0);
    const out = JSON.parse(r.out.join('')) as {
      folds: number;
      n: number;
      candidates: { c: number; accuracy: number; macroF1: number }[];
      baseline: { accuracy: number; macroF1: number };
      best: number;
    };
    expect(out).toMatchObject({ folds: 3, n: 400 });
    expect(out.candidates.map((c) => c.c)).toEqual([0.3, 1]);
    for (const c of [...out.candidates, out.baseline]) {
      expect(c.accuracy).toBeGreaterThan(0.2);
      expect(c.macroF1).toBeGreaterThan(0);
    }
    expect([0.3, 1]).toContain(out.best);
  });
});
