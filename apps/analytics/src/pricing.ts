// Price of a categorization from the tokens its event reports. The events carry tokens,
// not money: prices change, and a replay with a new table re-prices the whole history.

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Anthropic list prices by model family (first match wins; a model id contains its family). */
export const DEFAULT_PRICES: readonly (readonly [family: string, price: ModelPrice])[] = [
  ['haiku-4', { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 }],
  ['3-5-haiku', { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 }],
  ['3-haiku', { input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.3 }],
  ['haiku', { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 }],
  ['sonnet', { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }],
  ['opus-4-5', { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 }],
  ['opus', { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 }],
];

export type PriceTable = readonly (readonly [string, ModelPrice])[];

/** Cost in USD; 0 for models without a price (the local model, or an unknown id). */
export function costUsd(
  model: string,
  tokens: TokenUsage | undefined,
  prices: PriceTable = DEFAULT_PRICES,
): number {
  if (!tokens) return 0;
  const price = prices.find(([family]) => model.includes(family))?.[1];
  if (!price) return 0;
  return (
    (tokens.input * price.input +
      tokens.output * price.output +
      tokens.cacheRead * price.cacheRead +
      tokens.cacheWrite * price.cacheWrite) /
    1_000_000
  );
}
