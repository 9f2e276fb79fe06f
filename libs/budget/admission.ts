import type { BudgetSnapshot } from './budgetStore.ts';
import type { BudgetLimits } from './reservation.ts';

/** Why the API refuses new work: the window whose hard cap is reached, and when it ends (epoch ms). */
export interface CapReached {
  window: 'month' | 'day';
  retryAtMs: number;
}

/**
 * The hard cap is reached when what is left of a window after settled spend cannot pay for even
 * the cheapest possible job (`minJobMicros`: the cheapest model's worst case with an empty
 * prompt). Reservations in flight do not count: they may still be released.
 */
export function capReached(snapshot: BudgetSnapshot, limits: BudgetLimits, minJobMicros: number): CapReached | null {
  if (limits.monthlyMicros - snapshot.month.spent < minJobMicros) return { window: 'month', retryAtMs: snapshot.month.endsAt };
  if (limits.dailyMicros !== null && limits.dailyMicros - snapshot.day.spent < minJobMicros) return { window: 'day', retryAtMs: snapshot.day.endsAt };
  return null;
}

/**
 * Whether `amountMicros` more fits under `share` of every limit, counting spent and reserved alike:
 * background work (a category's generic answer) only uses budget that users' jobs are far from needing.
 * @param share fraction of each limit background work may reach, e.g. 0.8
 */
export function leavesHeadroom(snapshot: BudgetSnapshot, limits: BudgetLimits, amountMicros: number, share: number): boolean {
  const fits = (w: { spent: number; reserved: number }, limit: number | null) => limit === null || w.spent + w.reserved + amountMicros <= share * limit;
  return fits(snapshot.month, limits.monthlyMicros) && fits(snapshot.day, limits.dailyMicros);
}
