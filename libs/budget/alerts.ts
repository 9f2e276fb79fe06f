/** A budget threshold reached for the first time in its window (each is reported once, by the script that reached it). */
export interface BudgetThresholdEvent {
  window: 'month' | 'day';
  /** 'YYYY-MM' or 'YYYY-MM-DD'. */
  period: string;
  /** Fraction of the limit, e.g. 0.8. */
  threshold: number;
}

/** Entries the alert stream keeps (approximately; older ones are trimmed). Default 10000. */
export const BUDGET_EVENTS_MAXLEN = 10_000;

/**
 * The Redis stream budget threshold events are appended to, by the same Lua script whose settle or
 * charge crosses them (scripts/prelude.lua), so an alert is neither lost nor doubled. Entries carry
 * type 'budget.threshold_crossed', window, period, threshold and at (ISO-8601); consumers read it
 * with XREAD or a consumer group.
 */
export function budgetEventsKey(prefix: string): string {
  return `${prefix}:events:budget`;
}
