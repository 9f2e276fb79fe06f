import type { GatewayConfig } from '../../config/types.ts';
import type { BudgetSnapshot } from '../../budget/budgetStore.ts';
import { budgetLimits } from '../../budget/reservation.ts';
import { microsToUsd } from '../../budget/cost.ts';
import { allCandidates, candidateWorstCase, chainWorstCase, failoverChain } from '../../pipeline/route.ts';

/** The budget gauges of one scrape, in US dollars (month window). */
export interface BudgetFigures {
  spentUsd: number;
  reservedUsd: number;
  limitUsd: number;
  forecastUsd: number;
  /** True when what is left of the month or the day (spent and reserved counted) cannot admit one more job's worst case. */
  exhausted: boolean;
}

/**
 * Micro-dollars the cheapest admissible job reserves: with `downgrade`, the cheapest model's worst
 * case; otherwise the cheapest variant's failover chain's (what a reservation must cover). Prompt
 * tokens are left out (they vary by job), so this is a lower bound. 0 when nothing is configured.
 */
export function smallestJobMicros(cfg: GatewayConfig, at: Date): number {
  const features = Object.values(cfg.features);
  const costs = features.flatMap((feature) => {
    const maxOut = feature.output.max_output_tokens;
    if (cfg.rateLimits.budget.on_exhausted === 'downgrade') return allCandidates(cfg).map((c) => candidateWorstCase(c, 0, maxOut, at));
    const experiment = cfg.abTests.experiments[feature.experiment];
    return (experiment?.variants ?? []).map((v) => chainWorstCase(failoverChain(cfg, experiment!, v), 0, maxOut, at));
  });
  return costs.length ? Math.min(...costs) : 0;
}

/** The budget gauges from a snapshot and the config; pure. */
export function budgetFigures(snapshot: BudgetSnapshot, cfg: GatewayConfig, at: Date): BudgetFigures {
  const limits = budgetLimits(cfg.rateLimits.budget);
  const job = smallestJobMicros(cfg, at);
  const left = (w: { spent: number; reserved: number }, limit: number | null) => (limit === null ? Infinity : limit - w.spent - w.reserved);
  return {
    spentUsd: microsToUsd(snapshot.month.spent),
    reservedUsd: microsToUsd(snapshot.month.reserved),
    limitUsd: cfg.rateLimits.budget.monthly_usd,
    forecastUsd: microsToUsd(snapshot.month.forecastMicros),
    // A job is refused when it does not fit in full, so "nearly 100%" is already exhausted.
    exhausted: left(snapshot.month, limits.monthlyMicros) < job || left(snapshot.day, limits.dailyMicros) < job,
  };
}
