/**
 * Confidence calibration and abstention, both fit on a validation split: scores from a
 * margin or a regularized model are not probabilities, and a threshold on uncalibrated
 * scores would mean something different for every taxonomy.
 */

/** Raw class scores for a set of rows, row-major (n × k), with the true class index. */
export interface ScoredSet {
  scores: Float64Array;
  truth: Int32Array;
  k: number;
}

function nll(set: ScoredSet, temperature: number): number {
  const { scores, truth, k } = set;
  let total = 0;
  for (let r = 0; r < truth.length; r++) {
    const base = r * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, scores[base + c]! / temperature);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(scores[base + c]! / temperature - max);
    total += Math.log(sum) + max - scores[base + truth[r]!]! / temperature;
  }
  return total / Math.max(truth.length, 1);
}

/**
 * The temperature T minimizing validation log-loss of softmax(score / T) (Guo et al.
 * 2017). One parameter, so it cannot change which class wins, only how sure we are.
 * Golden-section search over log T: the loss is unimodal in T for a fixed argmax.
 */
export function fitTemperature(set: ScoredSet): number {
  if (set.truth.length === 0) return 1;
  let lo = Math.log(1e-3);
  let hi = Math.log(1e3);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = nll(set, Math.exp(a));
  let fb = nll(set, Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = nll(set, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = nll(set, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

export interface AbstainPolicy {
  /** Accuracy wanted on the predictions that are not abstained. */
  targetAccuracy: number;
  /** Never abstain on more than this share of the validation split. */
  maxAbstainRate: number;
}

export const DEFAULT_ABSTAIN_POLICY: AbstainPolicy = { targetAccuracy: 0.8, maxAbstainRate: 0.3 };

/**
 * The lowest confidence threshold whose kept predictions reach the target accuracy on
 * validation, capped so that at most `maxAbstainRate` is abstained: a weak model should
 * send some tickets to review, not all of them. Returns 0 (never abstain) when the
 * target is already met with everything kept.
 */
export function fitAbstainThreshold(
  confidences: readonly number[],
  correct: readonly boolean[],
  policy: AbstainPolicy = DEFAULT_ABSTAIN_POLICY,
): number {
  const n = confidences.length;
  if (n === 0) return 0;
  const order = confidences.map((c, i) => i).sort((a, b) => confidences[a]! - confidences[b]!);
  let keptCorrect = correct.filter(Boolean).length;
  const maxDrop = Math.floor(policy.maxAbstainRate * n);
  // Drop the least confident predictions one by one until the rest are accurate enough.
  for (let dropped = 0; dropped <= maxDrop; dropped++) {
    const kept = n - dropped;
    if (kept > 0 && keptCorrect / kept >= policy.targetAccuracy) {
      return dropped === 0 ? 0 : midpoint(confidences, order, dropped);
    }
    if (dropped < n && correct[order[dropped]!]) keptCorrect--;
  }
  return midpoint(confidences, order, maxDrop);
}

// A threshold between the last dropped and the first kept confidence, so that exactly
// the dropped ones fall below it.
function midpoint(conf: readonly number[], order: readonly number[], dropped: number): number {
  if (dropped <= 0) return 0;
  const below = conf[order[dropped - 1]!]!;
  const above = conf[order[Math.min(dropped, order.length - 1)]!]!;
  return dropped >= order.length ? below + 1e-9 : (below + above) / 2;
}
