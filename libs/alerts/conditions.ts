/**
 * Pure: from what the evaluator read (budget, breakers, queue, the workers' signal buckets) and the
 * alerts.json rules, the condition of every enabled alert right now. No I/O and no state: the
 * transitions (fire once, resolve once) are decided in transitions.ts.
 */
import type { AlertsFile } from '../config/types.ts';
import type { BreakerState } from '../resilience/sharedBreaker.ts';
import { thresholdMicros } from '../budget/reservation.ts';
import { demandForecast, ordinalDay, type DemandTotals } from '../budget/demandForecast.ts';
import { LATENCY_BUCKETS_S, histogramQuantile } from './histogram.ts';

/** The kinds of built-in alert (one alerts.json section each). */
export type AlertRule = 'budget' | 'budget_exhausted' | 'budget_forecast' | 'latency_p95' | 'error_rate' | 'breaker_open' | 'webhook_dead_letters' | 'queue_backlog' | 'rate_limit_waits';

/** One alert's condition at one evaluation. */
export interface AlertCondition {
  /** Stable id: the rule, plus `_<percent>` or `/<provider>` where one rule makes several alerts (`budget_80`, `breaker_open/openai`). */
  id: string;
  rule: AlertRule;
  /** Whether the condition holds; null when its inputs could not be read (no transition then). */
  active: boolean | null;
  /** The measured value in the threshold's unit, when there is one. */
  value: number | null;
  /** The threshold in its unit (a fraction, seconds or a count). */
  threshold: number;
  /** For budget alerts, the budget window (`month:2026-12`): such an alert fires at most once per window. */
  window?: string;
  /** One line of what was measured, for the log and the notification. */
  summary: string;
}

/** One time bucket of the workers' signals (see signals.ts). */
export interface SignalBucket {
  /** Epoch seconds at which the bucket starts. */
  start: number;
  /** Finished jobs. */
  jobs: number;
  /** Finished jobs that failed, were rejected or were served degraded. */
  errors: number;
  /** Finished jobs per latency bucket (index as histogram.ts bucketIndex). */
  latency: number[];
  /** Webhook deliveries dead-lettered. */
  deadLetters: number;
  /** Calls held back by a provider's RPM/TPM limit, by provider. */
  rateLimitWaits: Record<string, number>;
}

/** One budget window as the evaluator read it, in integer micro-dollars. */
export interface BudgetWindowInput {
  /** 'YYYY-MM' or 'YYYY-MM-DD'. */
  period: string;
  spent: number;
  /** The configured limit; null when the window has none (no daily limit). */
  limit: number | null;
}

/** Everything one evaluation read; a field left null could not be read. */
export interface AlertInputs {
  /** Epoch milliseconds of the evaluation. */
  now: number;
  budget: { month: BudgetWindowInput; day: BudgetWindowInput; minJobMicros: number } | null;
  /** The month's spend and the demand (spend plus what pacing held back) of today and yesterday; null when unread, absent when not read (budget_forecast off). */
  demand?: DemandTotals | null;
  /** Breaker state by configured provider. */
  breakers: Record<string, BreakerState | null>;
  /** Age in ms of the oldest waiting job; 0 when none waits; null when unread. */
  oldestWaitingMs: number | null;
  /** Signal buckets covering at least the longest window; null when unread. */
  buckets: SignalBucket[] | null;
  /** Width of those buckets in seconds. */
  bucketSeconds: number;
  /** Providers whose rate-limit waits are watched (rate_limits.json `providers`). */
  rateLimitedProviders: string[];
}

/** Sums of the buckets that overlap the last `windowSeconds` before `nowMs`. */
export interface WindowSums {
  jobs: number;
  errors: number;
  latency: number[];
  deadLetters: number;
  rateLimitWaits: Record<string, number>;
}

/** Adds up the buckets overlapping (nowMs - windowSeconds, nowMs]. */
export function sumWindow(buckets: readonly SignalBucket[], nowMs: number, windowSeconds: number, bucketSeconds: number): WindowSums {
  const from = nowMs / 1000 - windowSeconds;
  const sums: WindowSums = { jobs: 0, errors: 0, latency: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), deadLetters: 0, rateLimitWaits: {} };
  for (const b of buckets) {
    if (b.start + bucketSeconds <= from || b.start > nowMs / 1000) continue;
    sums.jobs += b.jobs;
    sums.errors += b.errors;
    b.latency.forEach((n, i) => (sums.latency[i] = (sums.latency[i] ?? 0) + n));
    sums.deadLetters += b.deadLetters;
    for (const [p, n] of Object.entries(b.rateLimitWaits)) sums.rateLimitWaits[p] = (sums.rateLimitWaits[p] ?? 0) + n;
  }
  return sums;
}

const usd = (micros: number): string => `$${(micros / 1e6).toFixed(2)}`;
const pct = (fraction: number): string => `${+(fraction * 100).toFixed(2)}%`;

/** The condition of every enabled alert (rules in `rules`) given `inputs`. */
export function evaluateConditions(rules: AlertsFile, inputs: AlertInputs): AlertCondition[] {
  return [...budgetConditions(rules, inputs), ...signalConditions(rules, inputs), ...breakerConditions(rules, inputs), ...backlogConditions(rules, inputs)];
}

function budgetConditions(rules: AlertsFile, { budget, demand, now }: AlertInputs): AlertCondition[] {
  const out: AlertCondition[] = [];
  const windows = [
    { name: 'month', prefix: 'budget', w: budget?.month },
    { name: 'day', prefix: 'budget_day', w: budget?.day },
  ] as const;
  if (rules.budget.enabled) {
    for (const { name, prefix, w } of windows) {
      if (w && w.limit === null) continue;
      for (const t of rules.budget.thresholds) {
        const id = `${prefix}_${Math.round(t * 100)}`;
        if (!w || w.limit === null) {
          out.push({ id, rule: 'budget', active: null, value: null, threshold: t, summary: 'budget unreadable' });
          continue;
        }
        const fraction = w.limit > 0 ? w.spent / w.limit : 1;
        out.push({
          id,
          rule: 'budget',
          active: w.spent >= thresholdMicros(w.limit, t),
          value: fraction,
          threshold: t,
          window: `${name}:${w.period}`,
          summary: `${usd(w.spent)} of the ${name === 'month' ? 'monthly' : 'daily'} ${usd(w.limit)} spent (${pct(fraction)}; threshold ${pct(t)})`,
        });
      }
    }
  }
  if (rules.budget_exhausted.enabled) {
    if (!budget) {
      out.push({ id: 'budget_exhausted', rule: 'budget_exhausted', active: null, value: null, threshold: 0, summary: 'budget unreadable' });
    } else {
      // Settled spend only, as the API's admission does: holds in flight may still be released.
      const left = (w: BudgetWindowInput) => (w.limit === null ? Infinity : w.limit - w.spent);
      const refusing = left(budget.month) < budget.minJobMicros ? budget.month : left(budget.day) < budget.minJobMicros ? budget.day : null;
      const name = refusing === budget.day ? 'day' : 'month';
      const w = refusing ?? budget.month;
      out.push({
        id: 'budget_exhausted',
        rule: 'budget_exhausted',
        active: refusing !== null,
        value: Math.max(0, left(w)),
        threshold: budget.minJobMicros,
        window: `${name}:${w.period}`,
        summary: refusing
          ? `the ${name === 'month' ? 'monthly' : 'daily'} budget has ${usd(Math.max(0, left(w)))} left, less than one job's worst case (${usd(budget.minJobMicros)}); jobs are refused`
          : `the budget can pay for another job (${usd(left(budget.month))} left this month)`,
      });
    }
  }
  if (rules.budget_forecast?.enabled) out.push(forecastCondition(budget?.month ?? null, demand ?? null, now));
  return out;
}

/** budget_forecast: the last 24 hours' demand runs the month's budget out before the month ends. */
function forecastCondition(month: BudgetWindowInput | null, demand: DemandTotals | null, now: number): AlertCondition {
  if (!month || month.limit === null || !demand) return { id: 'budget_forecast', rule: 'budget_forecast', active: null, value: null, threshold: 1, summary: 'budget unreadable' };
  const limit = month.limit;
  const f = demandForecast(limit, demand, now);
  const share = limit > 0 ? f.monthEndMicros / limit : f.monthEndMicros > 0 ? Infinity : 0;
  const pace = `the last 24 hours' demand (${usd(f.paceMicrosPerDay)} a day, spend plus what pacing held back)`;
  return {
    id: 'budget_forecast',
    rule: 'budget_forecast',
    active: f.exhaustsOn !== null,
    value: share,
    threshold: 1,
    summary: f.exhaustsOn
      ? `on pace to run out on ${ordinalDay(f.exhaustsOn)}: at ${pace} the month would need ${usd(f.monthEndMicros)} of its ${usd(limit)} (${pct(share)})`
      : `at ${pace} the month ends at ${usd(f.monthEndMicros)} of its ${usd(limit)} (${pct(share)})`,
  };
}

function signalConditions(rules: AlertsFile, inputs: AlertInputs): AlertCondition[] {
  const out: AlertCondition[] = [];
  const { buckets, now, bucketSeconds } = inputs;
  const sums = (windowSeconds: number) => (buckets ? sumWindow(buckets, now, windowSeconds, bucketSeconds) : null);
  const unread = (id: string, rule: AlertRule, threshold: number): AlertCondition => ({ id, rule, active: null, value: null, threshold, summary: 'signals unreadable' });

  const lat = rules.latency_p95;
  if (lat.enabled) {
    const s = sums(lat.window_seconds);
    if (!s) out.push(unread('latency_p95', 'latency_p95', lat.threshold_seconds));
    else {
      const p95 = histogramQuantile(0.95, s.latency);
      out.push({
        id: 'latency_p95',
        rule: 'latency_p95',
        // Too few jobs to judge: the alert keeps its state rather than flap on a quiet minute.
        active: p95 === null || s.jobs < lat.min_jobs ? null : p95 > lat.threshold_seconds,
        value: p95,
        threshold: lat.threshold_seconds,
        summary: `p95 total job latency ${p95 === null ? 'n/a' : `${p95.toFixed(2)} s`} over the last ${lat.window_seconds} s (${s.jobs} jobs; threshold ${lat.threshold_seconds} s)`,
      });
    }
  }

  const err = rules.error_rate;
  if (err.enabled) {
    const s = sums(err.window_seconds);
    if (!s) out.push(unread('error_rate', 'error_rate', err.threshold));
    else {
      const ratio = s.jobs > 0 ? s.errors / s.jobs : 0;
      out.push({
        id: 'error_rate',
        rule: 'error_rate',
        active: s.jobs < err.min_jobs ? null : ratio > err.threshold,
        value: ratio,
        threshold: err.threshold,
        summary: `${s.errors} of ${s.jobs} jobs failed, were rejected or degraded over the last ${err.window_seconds} s (${pct(ratio)}; threshold ${pct(err.threshold)})`,
      });
    }
  }

  const dl = rules.webhook_dead_letters;
  if (dl.enabled) {
    const s = sums(dl.window_seconds);
    if (!s) out.push(unread('webhook_dead_letters', 'webhook_dead_letters', dl.threshold));
    else {
      out.push({
        id: 'webhook_dead_letters',
        rule: 'webhook_dead_letters',
        active: s.deadLetters > dl.threshold,
        value: s.deadLetters,
        threshold: dl.threshold,
        summary: `${s.deadLetters} webhook deliveries dead-lettered over the last ${dl.window_seconds} s (threshold ${dl.threshold})`,
      });
    }
  }

  const rl = rules.rate_limit_waits;
  if (rl.enabled) {
    const s = sums(rl.window_seconds);
    for (const provider of inputs.rateLimitedProviders) {
      const id = `rate_limit_waits/${provider}`;
      if (!s) {
        out.push(unread(id, 'rate_limit_waits', rl.threshold));
        continue;
      }
      const waits = s.rateLimitWaits[provider] ?? 0;
      out.push({
        id,
        rule: 'rate_limit_waits',
        active: waits > rl.threshold,
        value: waits,
        threshold: rl.threshold,
        summary: `${provider}'s RPM/TPM limit held calls back ${waits} times over the last ${rl.window_seconds} s (threshold ${rl.threshold})`,
      });
    }
  }
  return out;
}

function breakerConditions(rules: AlertsFile, { breakers }: AlertInputs): AlertCondition[] {
  if (!rules.breaker_open.enabled) return [];
  return Object.entries(breakers).map(([provider, state]) => ({
    id: `breaker_open/${provider}`,
    rule: 'breaker_open' as const,
    // Half-open counts as open: the provider has not answered a trial call yet.
    active: state === null ? null : state !== 'closed',
    value: null,
    threshold: 0,
    summary: state === null ? 'breaker unreadable' : `the circuit breaker of ${provider} is ${state.replace('_', '-')}`,
  }));
}

function backlogConditions(rules: AlertsFile, { oldestWaitingMs }: AlertInputs): AlertCondition[] {
  const q = rules.queue_backlog;
  if (!q.enabled) return [];
  const age = oldestWaitingMs === null ? null : oldestWaitingMs / 1000;
  return [
    {
      id: 'queue_backlog',
      rule: 'queue_backlog',
      active: age === null ? null : age > q.threshold_seconds,
      value: age,
      threshold: q.threshold_seconds,
      summary: age === null ? 'queue unreadable' : `the oldest waiting job has waited ${age.toFixed(1)} s (threshold ${q.threshold_seconds} s)`,
    },
  ];
}
