import { FusedScorer, sameFeatures } from './fused-scorer.js';
import { LinearClassifier, type Classifier } from './linear-classifier.js';
import { softmaxInPlace } from './softmax-regression.js';

/** Several classifiers asked about the same text, e.g. the queue and the priority model. */
export interface FusedClassifier {
  readonly models: readonly Classifier[];
  /** How many feature passes a text costs: 1 when every model shares its features. */
  readonly passes: number;
  /**
   * Calibrated distributions, one per model in `models` order, each in that model's
   * `labels` order. The arrays are reused by the next call.
   */
  probabilities(text: string): readonly Float64Array[];
}

interface Group {
  members: number[];
  scorer: FusedScorer | null;
}

/**
 * Groups the models that featurize text identically (the shipped queue and priority
 * models do: same columns, same training texts, same feature spec) behind one
 * FusedScorer — one tokenization and one n-gram lookup per text, each model's weights
 * side by side. Other models keep their own pass. Build once at load.
 */
export function fuseClassifiers(models: readonly Classifier[]): FusedClassifier {
  const groups: Group[] = [];
  // A model with a network keeps its own pass (LinearClassifier adds the network).
  const fusable = (m: Classifier | undefined): m is LinearClassifier =>
    m instanceof LinearClassifier && m.data.mlp === undefined;
  models.forEach((m, i) => {
    const group = fusable(m)
      ? groups.find((g) => {
          const first = models[g.members[0]!];
          return fusable(first) && sameFeatures(first.data, m.data);
        })
      : undefined;
    if (group) group.members.push(i);
    else groups.push({ members: [i], scorer: null });
  });
  for (const g of groups) {
    const linear = g.members.map((i) => models[i]);
    if (linear.every(fusable)) {
      const first = linear[0]!.data;
      g.scorer = new FusedScorer(
        first.blocks,
        first.sublinearTf,
        linear.map((m) => m.data.linear),
      );
    }
  }
  const temperatures = models.map((m) => (m instanceof LinearClassifier ? m.data.temperature : 1));
  const outs: Float64Array[] = models.map((m) => new Float64Array(m.labels.length));
  return {
    models,
    passes: groups.length,
    probabilities(text: string): readonly Float64Array[] {
      for (const g of groups) {
        if (!g.scorer) {
          const i = g.members[0]!;
          outs[i]!.set(models[i]!.probabilities(text));
          continue;
        }
        const scores = g.scorer.score(text);
        for (let h = 0; h < g.members.length; h++) {
          const i = g.members[h]!;
          const out = outs[i]!;
          out.set(scores[h]!);
          softmaxInPlace(out, out.length, temperatures[i]);
        }
      }
      return outs;
    },
  };
}
