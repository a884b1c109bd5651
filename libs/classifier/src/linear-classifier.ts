import { FusedScorer } from './fused-scorer.js';
import { addMlpOutput, type MlpHead } from './mlp.js';
import { softmaxInPlace, type LinearModel } from './softmax-regression.js';
import type { FittedBlock } from './tfidf.js';

export interface ScoredLabel {
  label: string;
  confidence: number;
}

export interface Prediction {
  /** The most likely label, also when abstained (the caller may still show it). */
  label: string;
  /** Calibrated probability of `label`. */
  confidence: number;
  /** True when confidence is below the model's abstain threshold: route to review. */
  abstained: boolean;
  /** The top three labels, most likely first. */
  scores: ScoredLabel[];
}

/** What the pipeline depends on: the local model and any future one behave alike. */
export interface Classifier {
  readonly labels: readonly string[];
  readonly abstainThreshold: number;
  predict(text: string): Prediction;
  /** The calibrated distribution over `labels`, in `labels` order. */
  probabilities(text: string): Float64Array;
  /** A classifier sharing this one's weights with another abstain threshold. */
  withAbstainThreshold(threshold: number): Classifier;
}

/** Everything a model file holds; see model-file.ts for the encoding. */
export interface ModelData {
  labels: string[];
  sublinearTf: boolean;
  blocks: FittedBlock[];
  linear: LinearModel;
  /** A network whose class scores are added to `linear`'s (learner 'svm-mlp'). */
  mlp?: MlpHead | undefined;
  temperature: number;
  abstainThreshold: number;
  /** Free-form facts about training (learner, C, columns, validation figures). */
  meta: Record<string, unknown>;
}

const TOP = 3;

/**
 * TF-IDF features → linear scores → temperature-scaled softmax. Built once per model
 * (see FusedScorer for the layout); a prediction allocates only its result. Not safe
 * for concurrent use from several threads, which JS does not do within one isolate.
 */
export class LinearClassifier implements Classifier {
  readonly labels: readonly string[];
  private table: FusedScorer | undefined;
  private readonly z: Float64Array;

  /** `scorer` lets a copy with another threshold share the (multi-MB) weight table. */
  constructor(
    readonly data: ModelData,
    scorer?: FusedScorer,
  ) {
    this.labels = data.labels;
    this.table = scorer;
    this.z = new Float64Array(data.labels.length);
  }

  // Built on first use: a model that is only ever scored through fuseClassifiers (the
  // categorizer's) never needs a table of its own.
  private get scorer(): FusedScorer {
    const { linear, mlp } = this.data;
    this.table ??= new FusedScorer(
      this.data.blocks,
      this.data.sublinearTf,
      mlp ? [linear, mlp.hidden] : [linear],
    );
    return this.table;
  }

  /** Raw scores, reused by the next call: the linear head's plus the network's. */
  private score(text: string): Float64Array {
    const heads = this.scorer.score(text);
    const z = this.z;
    z.set(heads[0]!);
    if (this.data.mlp) addMlpOutput(heads[1]!, this.data.mlp.output, z);
    return z;
  }

  get abstainThreshold(): number {
    return this.data.abstainThreshold;
  }

  get numFeatures(): number {
    return this.data.linear.numFeatures;
  }

  /** Raw (uncalibrated) scores into `out`; used to fit the temperature. */
  rawScores(text: string, out: Float64Array): void {
    out.set(this.score(text));
  }

  probabilities(text: string): Float64Array {
    const out = new Float64Array(this.labels.length);
    this.rawScores(text, out);
    softmaxInPlace(out, out.length, this.data.temperature);
    return out;
  }

  predict(text: string): Prediction {
    const z = this.score(text);
    const k = z.length;
    softmaxInPlace(z, k, this.data.temperature);
    // Top three by selection: cheaper than sorting K entries.
    const top: number[] = [];
    for (let t = 0; t < Math.min(TOP, k); t++) {
      let best = -1;
      for (let c = 0; c < k; c++) {
        if (top.includes(c)) continue;
        if (best < 0 || z[c]! > z[best]!) best = c;
      }
      top.push(best);
    }
    const scores = top.map((c) => ({ label: this.labels[c]!, confidence: z[c]! }));
    const first = scores[0]!;
    return {
      label: first.label,
      confidence: first.confidence,
      abstained: first.confidence < this.data.abstainThreshold,
      scores,
    };
  }

  withAbstainThreshold(threshold: number): LinearClassifier {
    return new LinearClassifier({ ...this.data, abstainThreshold: threshold }, this.scorer);
  }
}
