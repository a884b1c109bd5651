import type { LabeledExample } from './csv.js';
import type { Classifier } from './linear-classifier.js';
import { evaluate, type Evaluation } from './metrics.js';

/** Predicts every example and scores the result (abstentions by the model's threshold). */
export function evaluateClassifier(
  classifier: Classifier,
  examples: readonly LabeledExample[],
): Evaluation {
  return evaluate(
    examples.map((e) => {
      const p = classifier.predict(e.text);
      return { truth: e.label, predicted: p.label, abstained: p.abstained };
    }),
    classifier.labels,
  );
}

export interface BaselineComparison {
  baseline: { accuracy: number; macroF1: number };
  delta: { accuracy: number; macroF1: number };
}

export function compareWithBaseline(ours: Evaluation, baseline: Evaluation): BaselineComparison {
  const r = (x: number): number => Math.round(x * 1e4) / 1e4;
  return {
    baseline: { accuracy: baseline.accuracy, macroF1: baseline.macroF1 },
    delta: {
      accuracy: r(ours.accuracy - baseline.accuracy),
      macroF1: r(ours.macroF1 - baseline.macroF1),
    },
  };
}
