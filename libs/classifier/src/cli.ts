import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { trainBaseline } from './baseline.js';
import { readLabeledCsv, type LabeledExample } from './csv.js';
import { DEFAULT_ABSTAIN_POLICY, fitAbstainThreshold } from './calibration.js';
import { crossValidate } from './cross-validate.js';
import { ClassifierError } from './errors.js';
import {
  compareWithBaseline,
  evaluateClassifier,
  type BaselineComparison,
} from './evaluate-model.js';
import { loadModel, saveModel } from './model-file.js';
import { stratifiedSplit } from './split.js';
import { trainFromExamplesInParallel, type TrainOptions, type TrainReport } from './train.js';
import type { Learner } from './train-parts.js';
import { evaluateBaselineInWorker } from './worker-jobs.js';

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  stdin(): Promise<string>;
}

const USAGE = `usage: classify <command> [options]

  train   --data FILE.csv --text COL[,COL...] --label COL --out MODEL
          [--valid FRACTION | --valid-data FILE.csv] [--seed N]
          [--learner svm|logreg|ensemble|svm-mlp] [--c 0.3,1] [--class-weight none|balanced]
          [--target-accuracy 0.8] [--max-abstain-rate 0.3] [--abstain-threshold P]
  cv      --data FILE.csv --text COL[,COL...] --label COL [--folds 5] [--seed N]
          [--learner svm|logreg|ensemble|svm-mlp] [--c 0.3,1] [--class-weight none|balanced]
  eval    --model MODEL --data FILE.csv [--text COL[,COL...]] [--label COL]
          [--baseline-train FILE.csv] [--abstain-threshold P]
          [--valid-data FILE.csv [--target-accuracy 0.8] [--max-abstain-rate 0.3]]
          (--valid-data fits the abstain threshold on that split before measuring)
  predict --model MODEL [--lines] [--abstain-threshold P]   (text on stdin)

Exit codes: 0 ok, 1 unexpected failure, 2 usage or input error.
`;

/** A usage problem: reported on stderr with exit code 2. */
class UsageError extends Error {}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function columns(value: string | undefined, name: string): string[] {
  const cols = (value ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (cols.length === 0) throw new UsageError(`--${name} is required`);
  return cols;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function fraction(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new UsageError(`--${name} must be in [0, 1]`);
  return x;
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** `{ [key]: x }` for a given fraction option, `{}` when it is absent. */
function definedFraction<K extends string>(
  value: string | undefined,
  key: K,
  name: string,
): Partial<Record<K, number>> {
  const x = fraction(value, name);
  return x === undefined ? {} : ({ [key]: x } as Record<K, number>);
}

function learnerOptions(v: {
  learner?: string | undefined;
  seed?: string | undefined;
  c?: string | undefined;
  'class-weight'?: string | undefined;
}): { learner: Learner; seed: number; c: number[] | undefined; classWeight: 'none' | 'balanced' } {
  const learner = (v.learner ?? 'svm') as Learner;
  if (!['svm', 'logreg', 'ensemble', 'svm-mlp'].includes(learner))
    throw new UsageError(`unknown --learner ${learner}`);
  const seed = v.seed === undefined ? 42 : Number(v.seed);
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be an integer');
  const c = v.c?.split(',').map(Number);
  if (c?.some((x) => !(x > 0))) throw new UsageError('--c must be positive numbers');
  const classWeight = v['class-weight'] ?? 'none';
  if (classWeight !== 'none' && classWeight !== 'balanced')
    throw new UsageError('--class-weight must be none or balanced');
  return { learner, seed, c, classWeight };
}

async function cv(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      text: { type: 'string' },
      label: { type: 'string' },
      folds: { type: 'string' },
      seed: { type: 'string' },
      learner: { type: 'string' },
      c: { type: 'string' },
      'class-weight': { type: 'string' },
    },
  });
  const text = columns(v.text, 'text');
  const label = required(v.label, 'label');
  const { learner, seed, c, classWeight } = learnerOptions(v);
  const folds = v.folds === undefined ? 5 : Number(v.folds);
  const examples = (await readLabeledCsv(required(v.data, 'data'), text, label)).examples;
  const result = crossValidate(examples, folds, { seed, learner, classWeight, c: c ?? [0.3, 1] });
  io.stdout(json({ learner, classWeight, ...result }));
  return 0;
}

async function train(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      text: { type: 'string' },
      label: { type: 'string' },
      out: { type: 'string' },
      valid: { type: 'string' },
      'valid-data': { type: 'string' },
      seed: { type: 'string' },
      learner: { type: 'string' },
      c: { type: 'string' },
      'class-weight': { type: 'string' },
      'target-accuracy': { type: 'string' },
      'max-abstain-rate': { type: 'string' },
      'abstain-threshold': { type: 'string' },
    },
  });
  const text = columns(v.text, 'text');
  const label = required(v.label, 'label');
  const out = required(v.out, 'out');
  const data = required(v.data, 'data');
  if (v.valid !== undefined && v['valid-data'] !== undefined) {
    throw new UsageError('use --valid or --valid-data, not both');
  }
  const { learner, seed, c, classWeight } = learnerOptions(v);

  const all = (await readLabeledCsv(data, text, label)).examples;
  let trainSet: LabeledExample[] = all;
  let validSet: LabeledExample[] = [];
  if (v['valid-data'] !== undefined) {
    validSet = (await readLabeledCsv(v['valid-data'], text, label)).examples;
  } else {
    const frac = fraction(v.valid, 'valid') ?? 0.15;
    if (frac >= 1) throw new UsageError('--valid must be below 1');
    if (frac > 0) ({ train: trainSet, valid: validSet } = stratifiedSplit(all, frac, seed));
  }
  const options: TrainOptions = {
    seed,
    learner,
    classWeight,
    ...(c ? { c } : {}),
    validation: validSet,
    // A split of --data is folded back in once calibrated; separate --valid-data is not.
    refit: v['valid-data'] === undefined,
    abstain: {
      ...definedFraction(v['target-accuracy'], 'targetAccuracy', 'target-accuracy'),
      ...definedFraction(v['max-abstain-rate'], 'maxAbstainRate', 'max-abstain-rate'),
    },
    ...(v['abstain-threshold']
      ? { abstainThreshold: fraction(v['abstain-threshold'], 'abstain-threshold') }
      : {}),
    meta: { textColumns: text, labelColumn: label, trainedOn: basename(data) },
  };
  // The baseline it is compared with on validation trains meanwhile, on a worker thread.
  const stop = new AbortController();
  const baselineEval =
    validSet.length > 0 ? evaluateBaselineInWorker(trainSet, validSet, seed, stop.signal) : null;
  // Awaited below; handled here too, so that it failing during training is no crash.
  void baselineEval?.catch(() => undefined);
  try {
    const { classifier, report } = await trainFromExamplesInParallel(trainSet, options);
    const bytes = await saveModel(classifier, out);
    const baseline =
      report.validation && baselineEval
        ? compareWithBaseline(report.validation, await baselineEval)
        : null;
    io.stdout(json(trainSummary(out, bytes, report, baseline)));
    return 0;
  } finally {
    // A training that failed does not wait for the baseline.
    stop.abort();
  }
}

function trainSummary(
  out: string,
  bytes: number,
  report: TrainReport,
  baseline: BaselineComparison | null,
): Record<string, unknown> {
  const val = report.validation;
  return {
    model: out,
    bytes,
    ...report,
    temperature: r4(report.temperature),
    abstainThreshold: r4(report.abstainThreshold),
    validation: val && {
      n: val.n,
      accuracy: val.accuracy,
      macroF1: val.macroF1,
      abstained: val.abstained,
      abstainRate: val.abstainRate,
      accuracyNonAbstained: val.accuracyNonAbstained,
    },
    ...(baseline ?? {}),
  };
}

async function evalCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      text: { type: 'string' },
      label: { type: 'string' },
      'baseline-train': { type: 'string' },
      'abstain-threshold': { type: 'string' },
      'valid-data': { type: 'string' },
      'target-accuracy': { type: 'string' },
      'max-abstain-rate': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (v['abstain-threshold'] !== undefined && v['valid-data'] !== undefined) {
    throw new UsageError('use --abstain-threshold or --valid-data, not both');
  }
  const model = await loadModel(required(v.model, 'model'));
  const data = required(v.data, 'data');
  // Columns default to the ones the model was trained with.
  const meta = model.data.meta;
  const text = v.text ? columns(v.text, 'text') : (meta.textColumns as string[] | undefined);
  const label = v.label ?? (meta.labelColumn as string | undefined);
  if (!text) throw new UsageError('--text is required (the model does not record its columns)');
  if (!label) throw new UsageError('--label is required (the model does not record its columns)');
  let threshold = fraction(v['abstain-threshold'], 'abstain-threshold');
  let tuned = {};
  if (v['valid-data'] !== undefined) {
    const valid = (await readLabeledCsv(v['valid-data'], text, label)).examples;
    const policy = {
      ...DEFAULT_ABSTAIN_POLICY,
      ...definedFraction(v['target-accuracy'], 'targetAccuracy', 'target-accuracy'),
      ...definedFraction(v['max-abstain-rate'], 'maxAbstainRate', 'max-abstain-rate'),
    };
    const preds = valid.map((e) => model.predict(e.text));
    threshold = fitAbstainThreshold(
      preds.map((p) => p.confidence),
      preds.map((p, i) => p.label === valid[i]!.label),
      policy,
    );
    tuned = { abstainTunedOn: { data: basename(v['valid-data']), n: valid.length, ...policy } };
  }
  const classifier = threshold === undefined ? model : model.withAbstainThreshold(threshold);
  const examples = (await readLabeledCsv(data, text, label)).examples;
  const ours = evaluateClassifier(classifier, examples);
  let comparison = {};
  if (v['baseline-train']) {
    const baseTrain = (await readLabeledCsv(v['baseline-train'], text, label)).examples;
    const seed = v.seed === undefined ? 42 : Number(v.seed);
    comparison = compareWithBaseline(
      ours,
      evaluateClassifier(trainBaseline(baseTrain, seed), examples),
    );
  }
  io.stdout(
    json({ ...ours, abstainThreshold: r4(classifier.abstainThreshold), ...tuned, ...comparison }),
  );
  return 0;
}

async function predict(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      lines: { type: 'boolean' },
      'abstain-threshold': { type: 'string' },
    },
  });
  const model = await loadModel(required(v.model, 'model'));
  const threshold = fraction(v['abstain-threshold'], 'abstain-threshold');
  const classifier = threshold === undefined ? model : model.withAbstainThreshold(threshold);
  const input = await io.stdin();
  const texts = v.lines ? input.split(/\r?\n/).filter((l) => l.trim() !== '') : [input];
  for (const t of texts) {
    const p = classifier.predict(t);
    io.stdout(
      `${JSON.stringify({
        label: p.label,
        confidence: r4(p.confidence),
        abstained: p.abstained,
        scores: p.scores.map((s) => ({ label: s.label, confidence: r4(s.confidence) })),
      })}\n`,
    );
  }
  return 0;
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  train,
  cv,
  eval: evalCommand,
  predict,
};

/**
 * `mailroom classify …`. Returns the exit code instead of exiting, so the bin decides
 * how to leave and tests can call it directly. A leading "classify" is accepted.
 */
export async function runClassifyCli(argv: string[], io: CliIo): Promise<number> {
  const args = argv[0] === 'classify' ? argv.slice(1) : argv;
  const [command, ...rest] = args;
  if (command === undefined || command === '--help' || command === 'help') {
    if (command === undefined) io.stderr(USAGE);
    else io.stdout(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr(`classify: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (err) {
    // parseArgs signals unknown or malformed options with ERR_PARSE_ARGS_* codes.
    const code = (err as { code?: unknown }).code;
    const parseError = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || err instanceof ClassifierError || parseError) {
      const tag = err instanceof ClassifierError ? ` [${err.code}]` : '';
      io.stderr(`classify ${command}: ${(err as Error).message}${tag}\n`);
      return 2;
    }
    io.stderr(`classify ${command}: unexpected failure: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
