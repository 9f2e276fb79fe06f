/**
 * Pure budget arithmetic: token estimates, worst-case costs, budget windows, forecasts, alert
 * thresholds and the downgrade choice. No I/O; the Redis side lives in budgetStore.ts.
 */
import type { BudgetSettings, PricePeriod } from '../config/types.ts';
import { costMicros, MICROS_PER_USD } from './cost.ts';

/**
 * Tokens added per message for the provider's role and framing tokens (OpenAI documents 3-4 per
 * message plus 3 to prime the reply). 4 covers both formats.
 */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * An upper bound on the input tokens of one message's text, for the worst-case reservation: its
 * UTF-8 length in bytes, plus MESSAGE_OVERHEAD_TOKENS. Byte-level BPE tokenizers (GPT and Claude
 * alike) never make a token of less than one byte, so no text, however adversarial (digit runs,
 * rare CJK characters, emoji), can cost more input tokens than this. Reserving per byte holds about
 * four times the typical English input, which is small next to the output reserve and is
 * released at settle.
 */
export function estimateInputTokens(text: string): number {
  return Buffer.byteLength(text, 'utf8') + MESSAGE_OVERHEAD_TOKENS;
}

/** Upper estimate of the input tokens of a whole prompt (e.g. [system, user]); see estimateInputTokens. */
export function estimatePromptTokens(messages: readonly string[]): number {
  return messages.reduce((sum, m) => sum + estimateInputTokens(m), 0);
}

/**
 * Worst-case cost of one call in micro-dollars: every input token at the full (uncached) input
 * price plus `maxOutputTokens` at the output price. This is what a reservation holds.
 */
export function worstCaseMicros(inputTokens: number, maxOutputTokens: number, price: PricePeriod): number {
  return costMicros({ inputTokens, outputTokens: maxOutputTokens, cachedInputTokens: 0 }, price);
}

/** Limits of the budget in micro-dollars, as the store takes them. */
export interface BudgetLimits {
  /** Monthly hard limit in micro-dollars. */
  monthlyMicros: number;
  /** Daily hard limit in micro-dollars; null for none. */
  dailyMicros: number | null;
}

/** The limits of rate_limits.json `budget` in micro-dollars (rounded to the nearest micro-dollar). */
export function budgetLimits(settings: Pick<BudgetSettings, 'monthly_usd' | 'daily_usd'>): BudgetLimits {
  return {
    monthlyMicros: Math.round(settings.monthly_usd * MICROS_PER_USD),
    dailyMicros: settings.daily_usd === null ? null : Math.round(settings.daily_usd * MICROS_PER_USD),
  };
}

/** The budget windows (UTC calendar month and day) that contain an instant. */
export interface BudgetWindows {
  /** The month, 'YYYY-MM' in UTC. */
  month: string;
  /** The day, 'YYYY-MM-DD' in UTC. */
  day: string;
  /** Epoch milliseconds at which the month started (inclusive). */
  monthStartsAt: number;
  /** Epoch milliseconds at which the month ends (exclusive): the next month's first instant. */
  monthEndsAt: number;
  /** Epoch milliseconds at which the day ends (exclusive): the next day's first instant. */
  dayEndsAt: number;
}

/** The UTC month and day windows that contain `now`. */
export function budgetWindows(now: Date): BudgetWindows {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const iso = now.toISOString();
  return {
    month: iso.slice(0, 7),
    day: iso.slice(0, 10),
    monthStartsAt: Date.UTC(y, m, 1),
    monthEndsAt: Date.UTC(y, m + 1, 1),
    dayEndsAt: Date.UTC(y, m, d + 1),
  };
}

/** Shortest elapsed time a forecast extrapolates from, in ms (1 hour), so the first minutes of a month give no absurd forecast. */
export const FORECAST_MIN_ELAPSED_MS = 3_600_000;

/**
 * Month-end spend in micro-dollars if the month keeps its average burn rate so far:
 * spent * (month length / elapsed), rounded up. Elapsed time counts at least
 * FORECAST_MIN_ELAPSED_MS.
 */
export function forecastMonthEnd(spentMicros: number, now: Date): number {
  const w = budgetWindows(now);
  const elapsed = Math.max(now.getTime() - w.monthStartsAt, FORECAST_MIN_ELAPSED_MS);
  const length = w.monthEndsAt - w.monthStartsAt;
  if (elapsed >= length) return spentMicros;
  return Math.ceil((spentMicros * length) / elapsed);
}

/**
 * The amount in micro-dollars at which a fraction of a limit is reached, rounded up so that
 * reaching it means really reaching the fraction (0.8 of 5,000,000,000 is 4,000,000,000).
 */
export function thresholdMicros(limitMicros: number, fraction: number): number {
  return Math.ceil(limitMicros * fraction - 1e-6);
}

/**
 * The thresholds (fractions of `limit`, e.g. 0.8/0.9/0.95/1.0) that a change from `before` to
 * `after` micro-dollars crossed upward, in ascending order. A threshold is reached when the amount
 * is at or above it.
 */
export function crossedThresholds(before: number, after: number, limit: number, thresholds: readonly number[]): number[] {
  return thresholds
    .filter((t) => {
      const at = thresholdMicros(limit, t);
      return before < at && after >= at;
    })
    .sort((a, b) => a - b);
}

/** A model the job could be downgraded to, with its worst-case cost for this request. */
export interface DowngradeCandidate {
  provider: string;
  model: string;
  /** Worst-case cost of the request on this model, in micro-dollars (see worstCaseMicros). */
  worstCaseMicros: number;
}

/**
 * The cheapest candidate whose worst case fits in `availableMicros`, or null when none does.
 * Among equally cheap candidates the first listed wins, so the configured order breaks ties.
 */
export function chooseDowngrade<C extends DowngradeCandidate>(candidates: readonly C[], availableMicros: number): C | null {
  let best: C | null = null;
  for (const c of candidates) {
    if (c.worstCaseMicros > availableMicros) continue;
    if (best === null || c.worstCaseMicros < best.worstCaseMicros) best = c;
  }
  return best;
}
