import type { ModelSettings, PricePeriod } from '../config/types.ts';

/** Micro-dollars (1e-6 USD) per US dollar. Costs are integers of micro-dollars so sums are exact. */
export const MICROS_PER_USD = 1_000_000;

/** The price period in force on `date` (ISO YYYY-MM-DD or Date): the latest that has started. */
export function priceAt(model: ModelSettings, date: Date): PricePeriod {
  const day = date.toISOString().slice(0, 10);
  // One pass, no array or locale-aware sort: this runs several times per job. ISO dates compare
  // as strings; of periods starting the same day, the last listed wins.
  let price: PricePeriod | undefined;
  for (const p of model.prices) {
    if (p.effective_from <= day && (price === undefined || p.effective_from >= price.effective_from)) price = p;
  }
  if (!price) throw new Error(`no price in force on ${day}`);
  return price;
}

/**
 * The batch API's price of a period, as a period of its own (same date), or null when the period
 * has no batch price (the model does not ride the batch lane then).
 */
export function batchPrice(period: PricePeriod): PricePeriod | null {
  if (period.batch_input_per_mtok_usd === undefined || period.batch_output_per_mtok_usd === undefined) return null;
  const price: PricePeriod = { effective_from: period.effective_from, input_per_mtok_usd: period.batch_input_per_mtok_usd, output_per_mtok_usd: period.batch_output_per_mtok_usd };
  const cached = period.batch_cached_input_per_mtok_usd ?? (period.cached_input_per_mtok_usd === undefined ? undefined : period.batch_input_per_mtok_usd);
  if (cached !== undefined) price.cached_input_per_mtok_usd = cached;
  return price;
}

/** Token counts a cost is computed from. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** Part of inputTokens served from the provider's prompt cache. Default 0. */
  cachedInputTokens?: number;
}

/**
 * Cost in whole micro-dollars, rounded up so that the gateway never under-counts spend.
 * Price per million tokens in USD equals micro-dollars per token, which keeps this exact.
 */
export function costMicros(usage: TokenUsage, price: PricePeriod): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedPrice = price.cached_input_per_mtok_usd ?? price.input_per_mtok_usd;
  const micros = (usage.inputTokens - cached) * price.input_per_mtok_usd + cached * cachedPrice + usage.outputTokens * price.output_per_mtok_usd;
  return Math.ceil(micros - 1e-9);
}

/** Micro-dollars as US dollars, for display. */
export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}
