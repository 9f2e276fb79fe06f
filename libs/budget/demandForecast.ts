/**
 * The month-end forecast at the pace of the last 24 hours of demand: spend plus what pacing held
 * back (deferred, downgraded, moved to the batch lane). Spend alone would understate a month that
 * pacing caps: its spend tracks the even line whatever the demand. Pure; the totals are read by
 * pacingGate.ts readPacingTotals.
 */
import { budgetWindows } from './reservation.ts';
import { exhaustionDay, projectedMonthEndMicros } from './pacing.ts';

const DAY_MS = 86_400_000;

/** The totals the forecast reads, integer micro-dollars. */
export interface DemandTotals {
  /** The month's spend plus its open reservations. */
  monthMicros: number;
  /** Today's spend plus open reservations plus what pacing held back today. */
  todayDemandMicros: number;
  /** The same of yesterday (UTC). */
  yesterdayDemandMicros: number;
}

/** The forecast at the last 24 hours' demand pace. */
export interface DemandForecast {
  /** Demand of the last 24 hours, micro-dollars per day. */
  paceMicrosPerDay: number;
  /** Month-end spend at that pace, micro-dollars (rounded up). */
  monthEndMicros: number;
  /** The UTC day ('YYYY-MM-DD') the month's limit is reached at that pace; null when the month ends first. */
  exhaustsOn: string | null;
}

/**
 * Demand of the 24 hours before `now`, micro-dollars: all of today's and the part of yesterday's
 * still inside the 24 hours (yesterday weighted by that share, as if spread evenly over it).
 */
export function last24hDemandMicros(todayDemandMicros: number, yesterdayDemandMicros: number, now: number): number {
  const elapsedToday = now - (budgetWindows(new Date(now)).dayEndsAt - DAY_MS);
  return todayDemandMicros + (yesterdayDemandMicros * (DAY_MS - elapsedToday)) / DAY_MS;
}

/** Month-end spend and exhaustion day of a month limited to `limitMicros` if the last 24 hours' demand goes on. */
export function demandForecast(limitMicros: number, t: DemandTotals, now: number): DemandForecast {
  const pace = last24hDemandMicros(t.todayDemandMicros, t.yesterdayDemandMicros, now);
  const at = new Date(now);
  return {
    paceMicrosPerDay: pace,
    monthEndMicros: projectedMonthEndMicros(t.monthMicros, at, pace),
    exhaustsOn: exhaustionDay(limitMicros, t.monthMicros, at, pace),
  };
}

/** 'the 21st' for '2026-12-21': how an alert or the dashboard names the day. */
export function ordinalDay(day: string): string {
  const n = Number(day.slice(8, 10));
  const suffix = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `the ${n}${suffix}`;
}
