export { runClassifyCli, type CliIo } from './cli.js';
export {
  parseCsv,
  readLabeledCsv,
  toLabeledExamples,
  type LabeledCsv,
  type LabeledExample,
} from './csv.js';
export { ClassifierError, type ClassifierErrorCode } from './errors.js';
export {
  LinearClassifier,
  type Classifier,
  type ModelData,
  type Prediction,
  type ScoredLabel,
} from './linear-classifier.js';
export { fuseClassifiers, type FusedClassifier } from './fused-classifier.js';
export { loadModel, saveModel, encodeModel, decodeModel } from './model-file.js';
export { loadDefaultModel, defaultModelPath, type DefaultModelTask } from './default-model.js';
export {
  trainFromExamples,
  trainFromExamplesInParallel,
  type TrainOptions,
  type TrainReport,
} from './train.js';
export type { Learner } from './train-parts.js';
export { trainBaseline } from './baseline.js';
export {
  evaluateClassifier,
  compareWithBaseline,
  type BaselineComparison,
} from './evaluate-model.js';
export { evaluate, type Evaluation, type ClassMetrics, type Judged } from './metrics.js';
export {
  fitTemperature,
  fitAbstainThreshold,
  DEFAULT_ABSTAIN_POLICY,
  type AbstainPolicy,
} from './calibration.js';
export { stratifiedSplit } from './split.js';
export { crossValidate, type CrossValidation, type CvScore } from './cross-validate.js';
export { DEFAULT_FEATURES, BASELINE_FEATURES } from './presets.js';
export type { FeaturizerSpec, BlockSpec } from './tfidf.js';
