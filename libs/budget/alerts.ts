import type { Redis } from 'ioredis';

/** A budget threshold reached for the first time in its window (each is reported once, by settle). */
export interface BudgetThresholdEvent {
  window: 'month' | 'day';
  /** 'YYYY-MM' or 'YYYY-MM-DD'. */
  period: string;
  /** Fraction of the limit, e.g. 0.8. */
  threshold: number;
}

/** Entries the alert stream keeps (approximately; older ones are trimmed). Default 10000. */
export const BUDGET_EVENTS_MAXLEN = 10_000;

/** The Redis stream that budget threshold events are appended to, for the alerting side to consume. */
export function budgetEventsKey(prefix: string): string {
  return `${prefix}:events:budget`;
}

/**
 * Appends threshold events to the budget event stream (one XADD each, pipelined). Consumers read
 * it with XREAD or a consumer group, so an alert is neither lost when no one listens nor doubled
 * by several API or worker processes.
 */
export async function publishBudgetEvents(redis: Redis, prefix: string, events: BudgetThresholdEvent[], at = Date.now()): Promise<void> {
  if (events.length === 0) return;
  const pipeline = redis.pipeline();
  for (const e of events) {
    pipeline.xadd(budgetEventsKey(prefix), 'MAXLEN', '~', BUDGET_EVENTS_MAXLEN, '*', 'type', 'budget.threshold_crossed', 'window', e.window, 'period', e.period, 'threshold', String(e.threshold), 'at', new Date(at).toISOString());
  }
  const results = await pipeline.exec();
  for (const [err] of results ?? []) if (err) throw err;
}
