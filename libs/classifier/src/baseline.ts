import type { LabeledExample } from './csv.js';
import type { LinearClassifier } from './linear-classifier.js';
import { BASELINE_FEATURES } from './presets.js';
import { trainFromExamples } from './train.js';

/** The word 1–2 gram TF-IDF + plain logistic regression (C = 1) reference model. */
export function trainBaseline(examples: readonly LabeledExample[], seed = 42): LinearClassifier {
  return trainFromExamples(examples, {
    seed,
    validation: 0,
    learner: 'logreg',
    c: [1],
    features: BASELINE_FEATURES,
    meta: { baseline: true },
  }).classifier;
}
