/** Per-class figures, as scikit-learn's classification_report. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  n: number;
  accuracy: number;
  macroF1: number;
  weightedF1: number;
  perClass: Record<string, ClassMetrics>;
  /** Rows are the true label, columns the predicted one, both in `labels` order. */
  confusion: { labels: string[]; matrix: number[][] };
  abstained: number;
  abstainRate: number;
  /** Accuracy on the predictions that were not abstained (selective accuracy). */
  accuracyNonAbstained: number | null;
}

export interface Judged {
  truth: string;
  predicted: string;
  abstained: boolean;
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

/**
 * Scores predictions against the truth. Labels are the union of the model's labels and
 * the ones in the data, so a class the model never saw still counts against macro-F1.
 * Accuracy and F1 use the predicted label even when abstained: the abstain figures are
 * reported separately, so both views are visible.
 */
export function evaluate(
  items: readonly Judged[],
  modelLabels: readonly string[] = [],
): Evaluation {
  const labelSet = new Set(modelLabels);
  for (const it of items) labelSet.add(it.truth);
  for (const it of items) labelSet.add(it.predicted);
  const labels = [...labelSet];
  const pos = new Map(labels.map((l, i) => [l, i]));
  const m = labels.map(() => labels.map(() => 0));
  let correct = 0;
  let abstained = 0;
  let keptCorrect = 0;
  for (const it of items) {
    m[pos.get(it.truth)!]![pos.get(it.predicted)!]!++;
    const ok = it.truth === it.predicted;
    if (ok) correct++;
    if (it.abstained) abstained++;
    else if (ok) keptCorrect++;
  }
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0;
  let f1Weighted = 0;
  let f1Count = 0;
  labels.forEach((label, i) => {
    const tp = m[i]![i]!;
    const support = m[i]!.reduce((a, b) => a + b, 0);
    const predicted = m.reduce((a, row) => a + row[i]!, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    // Like scikit-learn: a label neither present nor predicted does not enter the mean.
    if (support > 0 || predicted > 0) {
      f1Sum += f1;
      f1Count++;
    }
    f1Weighted += f1 * support;
    perClass[label] = {
      precision: round(precision),
      recall: round(recall),
      f1: round(f1),
      support,
    };
  });
  const n = items.length;
  const kept = n - abstained;
  return {
    n,
    accuracy: round(n > 0 ? correct / n : 0),
    macroF1: round(f1Count > 0 ? f1Sum / f1Count : 0),
    weightedF1: round(n > 0 ? f1Weighted / n : 0),
    perClass,
    confusion: { labels, matrix: m },
    abstained,
    abstainRate: round(n > 0 ? abstained / n : 0),
    accuracyNonAbstained: kept > 0 ? round(keptCorrect / kept) : null,
  };
}
