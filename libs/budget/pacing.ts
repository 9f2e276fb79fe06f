/**
 * Budget pacing, the pure part: how much of the month's budget today may spend, and when the
 * month's budget runs out at a given pace. A month's budget should last the month: today's
 * allowance is what remained at the start of today, spread over the days left (today included)
 * by a curve, so a day that spends less leaves more to the days after it, and one that spends
 * more leaves less. Budget windows are UTC calendar months and days (see budgetWindows).
 *
 * Not wired into admission yet: this is the arithmetic the pacing actions, `/v1/budget` and the
 * forecast alert are to share.
 */
import { GatewayError } from '../errors/index.ts';
import { budgetWindows, FORECAST_MIN_ELAPSED_MS } from './reservation.ts';

const DAY_MS = 86_400_000;

/** How the month's remainder is spread over its days: evenly, or by a weight per weekday. */
export type PacingCurve = { kind: 'even' } | { kind: 'weekday'; /** Seven weights, Sunday first (as Date.getUTCDay), each >= 0, not all 0. */ weights: readonly number[] };

/** The even curve, the default. */
export const EVEN_CURVE: PacingCurve = { kind: 'even' };

/** Throws a GatewayError (`invalid_pacing_curve`) unless `curve` can spread a budget. */
export function assertPacingCurve(curve: PacingCurve): void {
  if (curve.kind === 'even') return;
  const w = curve.weights;
  if (w.length !== 7 || w.some((x) => !Number.isFinite(x) || x < 0) || w.every((x) => x === 0)) {
    throw new GatewayError('invalid_pacing_curve', `A weekday pacing curve needs seven weights, Sunday first, each a number >= 0 and not all 0; got [${w.join(', ')}]. Fix the budget's pacing weights.`);
  }
}

function weightOf(curve: PacingCurve, day: number): number {
  return curve.kind === 'even' ? 1 : curve.weights[new Date(day).getUTCDay()]!;
}

/**
 * Today's allowance in micro-dollars (rounded down): the month's `limitMicros` minus what was
 * spent before today (`spentBeforeTodayMicros`), times today's weight over the weights of the days
 * left in the month, today included. Never negative. @defaultValue curve: the even curve
 */
export function dailyAllowanceMicros(limitMicros: number, spentBeforeTodayMicros: number, now: Date, curve: PacingCurve = EVEN_CURVE): number {
  assertPacingCurve(curve);
  const remaining = Math.max(0, limitMicros - spentBeforeTodayMicros);
  const w = budgetWindows(now);
  const today = w.dayEndsAt - DAY_MS;
  let weights = 0;
  for (let day = today; day < w.monthEndsAt; day += DAY_MS) weights += weightOf(curve, day);
  // Only zero-weight days left: nothing is planned for them, so nothing is allowed.
  if (weights === 0) return 0;
  return Math.floor((remaining * weightOf(curve, today)) / weights);
}

/**
 * The UTC day ('YYYY-MM-DD') on which spend reaches `limitMicros` if it goes on at
 * `paceMicrosPerDay` from `now`; null when the month ends first (or the pace is 0). A budget
 * already spent is exhausted today.
 */
export function exhaustionDay(limitMicros: number, spentMicros: number, now: Date, paceMicrosPerDay: number): string | null {
  if (spentMicros >= limitMicros) return budgetWindows(now).day;
  if (!(paceMicrosPerDay > 0)) return null;
  const at = now.getTime() + ((limitMicros - spentMicros) / paceMicrosPerDay) * DAY_MS;
  return at < budgetWindows(now).monthEndsAt ? new Date(at).toISOString().slice(0, 10) : null;
}

/** Month-end spend in micro-dollars (rounded up) if spend goes on at `paceMicrosPerDay` from `now`. */
export function projectedMonthEndMicros(spentMicros: number, now: Date, paceMicrosPerDay: number): number {
  const left = Math.max(0, budgetWindows(now).monthEndsAt - now.getTime());
  return Math.ceil(spentMicros + (Math.max(0, paceMicrosPerDay) * left) / DAY_MS);
}

/**
 * The month's average pace so far, micro-dollars per day: what was spent over the time elapsed
 * since the month began (at least FORECAST_MIN_ELAPSED_MS, as the month-end forecast counts it).
 */
export function monthToDatePace(spentMicros: number, now: Date): number {
  const elapsed = Math.max(now.getTime() - budgetWindows(now).monthStartsAt, FORECAST_MIN_ELAPSED_MS);
  return (spentMicros * DAY_MS) / elapsed;
}
