/**
 * Budget pacing, the decision per job: once today's allowance (pacing.ts dailyAllowanceMicros) is
 * spent, a job is not run at full price today but moved to the batch lane, downgraded to a model
 * whose worst case still fits, or deferred to tomorrow, as rate_limits.json `budget.pacing.action`
 * says. Pure: the Redis side (today's totals, the demand held back) is pacingGate.ts.
 */
import type { BudgetPacingSettings } from '../config/types.ts';
import { budgetWindows } from './reservation.ts';
import { dailyAllowanceMicros, EVEN_CURVE, type PacingCurve } from './pacing.ts';

/** What pacing does with a job once today's allowance is spent. */
export type PacingAction = 'defer' | 'downgrade' | 'batch';

/**
 * Milliseconds after the next UTC midnight over which deferred jobs are spread, so a day's
 * backlog does not hit the providers (and the new day's allowance) in the same second.
 */
export const DEFER_SPREAD_MS = 15 * 60_000;

/** The decision for one job. */
export type PacingDecision =
  /** Run it as planned. */
  | { kind: 'none' }
  /** Move it to the batch lane (it has a deadline leaving room). */
  | { kind: 'batch' }
  /** Run it on the cheapest model whose worst case is at most `maxMicros` (what is left of today's allowance). */
  | { kind: 'downgrade'; maxMicros: number }
  /** Do not run it before `untilMs` (epoch ms): the next UTC midnight plus this job's share of DEFER_SPREAD_MS. */
  | { kind: 'defer'; untilMs: number };

/** Everything pacingDecision looks at; amounts are integer micro-dollars. */
export interface PacingFacts {
  /** Today's spend plus open reservations (and what this process admitted since it last read them). */
  todayMicros: number;
  /** The month's spend before today. */
  spentBeforeTodayMicros: number;
  /** The month's limit. */
  limitMicros: number;
  /** Epoch ms. */
  now: number;
  /** @defaultValue EVEN_CURVE */
  curve?: PacingCurve;
  action: PacingAction;
  /** The job's worst case on the model it would run on. */
  worstCaseMicros: number;
  /** Worst case of the cheapest model the job may run on; @defaultValue worstCaseMicros (no cheaper model) */
  cheapestWorstCaseMicros?: number;
  /** Whether the job may go to the batch lane: its deadline leaves room for it. @defaultValue false */
  batchEligible?: boolean;
  /** Where in DEFER_SPREAD_MS this job lands, in [0, 1) (e.g. spreadOf(jobId)). @defaultValue 0 */
  spread?: number;
}

/** The rate_limits.json curve as pacing.ts takes it. */
export function pacingCurveOf(curve: BudgetPacingSettings['curve'] | undefined): PacingCurve {
  return curve === undefined || curve === 'even' ? EVEN_CURVE : { kind: 'weekday', weights: curve.weekday_weights };
}

/** A stable position in [0, 1) for `key` (FNV-1a), so a job retried lands at the same moment. */
export function spreadOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

/** The next UTC midnight after `now` plus `spread` (in [0, 1)) of DEFER_SPREAD_MS, epoch ms. */
export function deferUntil(now: number, spread = 0): number {
  return budgetWindows(new Date(now)).dayEndsAt + Math.floor(Math.min(Math.max(spread, 0), 0.999_999) * DEFER_SPREAD_MS);
}

/**
 * Today's allowance, micro-dollars: what was left of the month at the start of today spread over
 * the days left by `curve` (pacing.ts dailyAllowanceMicros).
 */
export function todayAllowanceMicros(f: Pick<PacingFacts, 'limitMicros' | 'spentBeforeTodayMicros' | 'now' | 'curve'>): number {
  return dailyAllowanceMicros(f.limitMicros, f.spentBeforeTodayMicros, new Date(f.now), f.curve ?? EVEN_CURVE);
}

/**
 * Whether `f`'s job runs as planned or how pacing holds it back. A job runs when its worst case
 * fits in what is left of today's allowance; so does the first job of a day that has spent and
 * reserved nothing yet and has an allowance, so a job dearer than a whole day's allowance is not deferred for ever
 * (the hard cap still bounds it). Otherwise the action: 'downgrade' when the cheapest model's
 * worst case fits what is left, and 'batch' for a job eligible for the batch lane; both fall
 * back to 'defer' when they cannot apply.
 */
export function pacingDecision(f: PacingFacts): PacingDecision {
  const allowance = todayAllowanceMicros(f);
  const left = allowance - f.todayMicros;
  if (f.worstCaseMicros <= left || (f.todayMicros <= 0 && allowance > 0)) return { kind: 'none' };
  if (f.action === 'batch' && f.batchEligible === true) return { kind: 'batch' };
  if (f.action === 'downgrade' && (f.cheapestWorstCaseMicros ?? f.worstCaseMicros) <= left) return { kind: 'downgrade', maxMicros: left };
  return { kind: 'defer', untilMs: deferUntil(f.now, f.spread) };
}

/**
 * The demand a decision held back from today, micro-dollars, as the forecast counts it: a moved or
 * deferred job's whole worst case; a downgraded job's worst case less the cheapest model's (that
 * part still runs today and is counted as spend).
 */
export function heldBackMicros(decision: PacingDecision, f: Pick<PacingFacts, 'worstCaseMicros' | 'cheapestWorstCaseMicros'>): number {
  if (decision.kind === 'none') return 0;
  if (decision.kind === 'downgrade') return Math.max(0, f.worstCaseMicros - (f.cheapestWorstCaseMicros ?? f.worstCaseMicros));
  return f.worstCaseMicros;
}
