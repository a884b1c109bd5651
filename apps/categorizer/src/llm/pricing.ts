import type { TokenUsage } from './types.js';

// USD per million tokens. Defaults follow Anthropic's published list prices for
// prompts under 100K tokens (ours are a few thousand; tickets are truncated).
// Prices change: override them through the options rather than editing this table.

export interface ModelPricing {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok: number;
  /** 5-minute cache write; we only use the default ephemeral TTL. */
  cacheWritePerMTok: number;
}

export const DEFAULT_PRICING: Readonly<Record<string, ModelPricing>> = {
  'claude-haiku-5-5': {
    inputPerMTok: 0.1,
    outputPerMTok: 0.5,
    cacheReadPerMTok: 0.01,
    cacheWritePerMTok: 0.125,
  },
  'claude-haiku-4-5': {
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheReadPerMTok: 0.1,
    cacheWritePerMTok: 1.25,
  },
};

export function pricingFor(model: string): ModelPricing | undefined {
  // Dated ids (claude-haiku-4-5-20251001) price like their alias.
  return DEFAULT_PRICING[model] ?? DEFAULT_PRICING[model.replace(/-\d{8}$/, '')];
}

export function costUsd(tokens: TokenUsage, pricing: ModelPricing): number {
  return (
    (tokens.input * pricing.inputPerMTok +
      tokens.output * pricing.outputPerMTok +
      tokens.cacheRead * pricing.cacheReadPerMTok +
      tokens.cacheWrite * pricing.cacheWritePerMTok) /
    1_000_000
  );
}
