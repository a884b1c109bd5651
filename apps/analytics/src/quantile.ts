/**
 * A quantile from per-bucket counts, interpolated linearly inside the bucket as
 * Prometheus' histogram_quantile does (the open last bucket answers its lower bound).
 */
export function quantileFromBuckets(
  q: number,
  bounds: readonly number[],
  perBucket: readonly number[],
): number | null {
  const total = perBucket.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const n = perBucket[i] ?? 0;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (below + n >= rank && n > 0) {
      if (upper === Infinity) return lower;
      return Math.round(lower + ((upper - lower) * (rank - below)) / n);
    }
    below += n;
  }
  return bounds.at(-2) ?? null;
}
