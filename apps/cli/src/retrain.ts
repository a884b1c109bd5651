import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  readLabeledCsv,
  saveModel,
  stratifiedSplit,
  trainFromExamples,
  type LabeledExample,
  type LinearClassifier,
  type TrainReport,
} from '@mailroom/classifier';
import { DEFAULT_TAXONOMY, loadTaxonomyFile, type Taxonomy } from '@mailroom/categorizer';
import { createPool } from '@mailroom/db';
import type { MailroomCliIo } from './run-cli.js';

// "Learn from corrections": a manual reroute says which department a ticket really
// belonged to, so it is a labeled example. Retraining combines those with the shipped
// training CSV (its labels translated into departments through the taxonomy's
// localModel map) and writes a model that predicts department names directly, which
// the categorizer uses via LOCAL_MODEL_FILE without any further mapping.

/** The shared data next to the repository checkout (<root>/../shared/data). */
const SHARED_DATA = fileURLToPath(new URL('../../../../shared/data', import.meta.url));

/** The shipped training split; MAILROOM_SHARED_DATA moves the shared data directory. */
export const defaultTrainCsv = (sharedData?: string) =>
  `${sharedData ?? SHARED_DATA}/tickets/support-tickets-en.train.csv`;

export interface Correction {
  ticketId: string;
  text: string;
  department: string;
}

/** The part of a pg pool this needs. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** The latest manual reroute of each ticket, with the ticket's text. */
export async function loadCorrections(db: Queryable): Promise<Correction[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (rh.ticket_id) rh.ticket_id, rh.department, t.title, t.description
       FROM routing_history rh
       JOIN tickets t ON t.id = rh.ticket_id
      WHERE rh.kind = 'rerouted'
      ORDER BY rh.ticket_id, rh.at DESC, rh.event_id`,
  );
  return rows.map((r) => ({
    ticketId: String(r.ticket_id),
    // The same "subject body" join as the CSV columns the model is trained on.
    text: `${String(r.title)} ${String(r.description)}`,
    department: String(r.department),
  }));
}

export interface RetrainOptions {
  corrections: readonly Correction[];
  /** Examples labeled with the model's original labels (e.g. the ticket queues). */
  base: readonly LabeledExample[];
  taxonomy: Taxonomy;
  /** How many times a correction counts: a person's decision outweighs a noisy label. */
  correctionWeight?: number;
  seed?: number;
  meta?: Record<string, unknown>;
}

export interface RetrainReport {
  corrections: number;
  correctionsDropped: number;
  baseExamples: number;
  baseDropped: number;
  labels: string[];
  training: TrainReport;
}

export function retrainFromCorrections(opts: RetrainOptions): {
  classifier: LinearClassifier;
  report: Omit<RetrainReport, 'training'> & { training: TrainReport };
} {
  const seed = opts.seed ?? 42;
  const weight = opts.correctionWeight ?? 3;
  const active = new Set(
    opts.taxonomy.departments.filter((d) => d.active !== false).map((d) => d.name),
  );
  const map = opts.taxonomy.localModel?.departments ?? {};
  const base = opts.base
    .map((e) => ({ text: e.text, label: map[e.label] ?? e.label }))
    .filter((e) => active.has(e.label));
  // A reroute to a department that no longer exists would teach an unusable label.
  const corrections = opts.corrections.filter((c) => active.has(c.department));
  // Validation comes from the base data only: duplicated corrections in it would leak.
  const { train, valid } = stratifiedSplit(base, 0.15, seed);
  const examples: LabeledExample[] = [...train];
  for (const c of corrections) {
    for (let i = 0; i < weight; i++) examples.push({ text: c.text, label: c.department });
  }
  const { classifier, report } = trainFromExamples(examples, {
    seed,
    validation: valid,
    refit: false,
    meta: {
      ...opts.meta,
      corrections: corrections.length,
      correctionWeight: weight,
      labelColumn: 'department',
    },
  });
  return {
    classifier,
    report: {
      corrections: corrections.length,
      correctionsDropped: opts.corrections.length - corrections.length,
      baseExamples: base.length,
      baseDropped: opts.base.length - base.length,
      labels: report.labels,
      training: report,
    },
  };
}

const USAGE = `usage: mailroom classify retrain --out MODEL [--database-url URL]
         [--data FILE.csv] [--text subject,body] [--label queue] [--taxonomy FILE.json]
         [--correction-weight 3] [--seed 42]
`;

/** `mailroom classify retrain …`: reads the ticket history, trains, writes MODEL. */
export async function runRetrain(args: string[], io: MailroomCliIo): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({
      args,
      options: {
        'database-url': { type: 'string' },
        out: { type: 'string' },
        data: { type: 'string' },
        text: { type: 'string' },
        label: { type: 'string' },
        taxonomy: { type: 'string' },
        'correction-weight': { type: 'string' },
        seed: { type: 'string' },
      },
    }));
  } catch (err) {
    io.stderr(`classify retrain: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const url = v['database-url'] ?? io.env.DATABASE_URL;
  const weight = Number(v['correction-weight'] ?? 3);
  const seed = Number(v.seed ?? 42);
  if (!v.out || !url || !Number.isInteger(weight) || weight < 1 || !Number.isInteger(seed)) {
    io.stderr(
      `classify retrain: --out and --database-url (or DATABASE_URL) are required\n${USAGE}`,
    );
    return 2;
  }
  try {
    return await retrain(v.out, url, weight, seed, v, io);
  } catch (err) {
    // Bad input (a missing file, an invalid CSV or taxonomy) is the caller's to fix: 2.
    const input =
      (err as { retriable?: unknown }).retriable === false ||
      (err as { code?: unknown }).code === 'ENOENT';
    io.stderr(`classify retrain: ${(err as Error).message}\n`);
    return input ? 2 : 1;
  }
}

async function retrain(
  out: string,
  url: string,
  weight: number,
  seed: number,
  v: { data?: string; text?: string; label?: string; taxonomy?: string },
  io: MailroomCliIo,
): Promise<number> {
  const data = v.data ?? defaultTrainCsv(io.env.MAILROOM_SHARED_DATA);
  const textColumns = (v.text ?? 'subject,body').split(',').map((c) => c.trim());
  const taxonomy = v.taxonomy ? await loadTaxonomyFile(v.taxonomy) : DEFAULT_TAXONOMY;
  const base = (await readLabeledCsv(data, textColumns, v.label ?? 'queue')).examples;
  const pool = createPool({ url, max: 1, applicationName: 'mailroom-cli' });
  let corrections: Correction[];
  try {
    corrections = await loadCorrections(pool);
  } finally {
    await pool.end();
  }
  const { classifier, report } = retrainFromCorrections({
    corrections,
    base,
    taxonomy,
    correctionWeight: weight,
    seed,
    meta: { textColumns, trainedOn: data },
  });
  const bytes = await saveModel(classifier, out);
  const val = report.training.validation;
  io.stdout(
    `${JSON.stringify(
      {
        model: out,
        bytes,
        corrections: report.corrections,
        correctionsDropped: report.correctionsDropped,
        baseExamples: report.baseExamples,
        baseDropped: report.baseDropped,
        labels: report.labels,
        abstainThreshold: report.training.abstainThreshold,
        validation: val && { n: val.n, accuracy: val.accuracy, macroF1: val.macroF1 },
        seconds: report.training.seconds,
      },
      null,
      2,
    )}\n`,
  );
  return 0;
}
