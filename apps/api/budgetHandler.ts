import type { GatewayConfig } from '../../libs/config/types.ts';
import type { BudgetStore, WindowSnapshot } from '../../libs/budget/budgetStore.ts';
import { budgetLimits } from '../../libs/budget/reservation.ts';
import { microsToUsd } from '../../libs/budget/cost.ts';
import { exhaustionDay, monthToDatePace } from '../../libs/budget/pacing.ts';
import { pacingCurveOf, todayAllowanceMicros } from '../../libs/budget/pacingDecision.ts';
import { demandForecast } from '../../libs/budget/demandForecast.ts';
import type { HandlerResult } from './handlers.ts';

function windowView(w: WindowSnapshot, limitMicros: number | null) {
  return {
    period: w.period,
    spent_usd: microsToUsd(w.spent),
    reserved_usd: microsToUsd(w.reserved),
    // Part of spent_usd charged at the reserved amount for runs that died without a known answer.
    charged_without_answer_usd: microsToUsd(w.charged),
    limit_usd: limitMicros === null ? null : microsToUsd(limitMicros),
    remaining_usd: limitMicros === null ? null : microsToUsd(Math.max(0, limitMicros - w.spent - w.reserved)),
    ends_at: new Date(w.endsAt).toISOString(),
  };
}

/**
 * GET /v1/budget: spend, reservations and limits of the current day and month, a month-end
 * forecast and the day the month's budget runs out at its pace so far, the same at the last 24
 * hours' demand (spend plus what pacing held back), today's paced allowance and pacing's state.
 */
export async function getBudget(budget: BudgetStore, config: () => GatewayConfig): Promise<HandlerResult> {
  const settings = config().rateLimits.budget;
  const limits = budgetLimits(settings);
  const [snap, totals] = await Promise.all([budget.snapshot(), budget.pacingTotals(Date.now())]);
  const now = new Date();
  const demand = demandForecast(limits.monthlyMicros, { monthMicros: totals.monthMicros, todayDemandMicros: totals.todayMicros + totals.heldTodayMicros, yesterdayDemandMicros: totals.yesterdayDemandMicros }, now.getTime());
  const pacing = settings.pacing;
  return {
    status: 200,
    body: {
      month: {
        ...windowView(snap.month, limits.monthlyMicros),
        forecast_usd: microsToUsd(snap.month.forecastMicros),
        // The UTC day the month's limit is reached at the month's pace so far; null if not this month.
        exhausts_on: exhaustionDay(limits.monthlyMicros, snap.month.spent, now, monthToDatePace(snap.month.spent, now)),
        // Spend plus what pacing held back over the last 24 hours, per day; the month's end and the
        // day it runs out at that pace (what the budget_forecast alert watches).
        demand_24h_usd: microsToUsd(Math.round(demand.paceMicrosPerDay)),
        demand_forecast_usd: microsToUsd(demand.monthEndMicros),
        forecast_exhausts_on: demand.exhaustsOn,
        // What remained at the start of today spread over the days left by the pacing curve (enforced only when pacing is enabled).
        today_allowance_usd: microsToUsd(todayAllowanceMicros({ limitMicros: limits.monthlyMicros, spentBeforeTodayMicros: totals.spentBeforeTodayMicros, now: now.getTime(), curve: pacingCurveOf(pacing?.curve) })),
        pacing: {
          enabled: pacing?.enabled ?? false,
          curve: pacing?.curve ?? 'even',
          action: pacing?.action ?? null,
          engaged_today: totals.heldTodayJobs > 0,
          held_today_usd: microsToUsd(totals.heldTodayMicros),
          held_today_jobs: totals.heldTodayJobs,
        },
      },
      day: windowView(snap.day, limits.dailyMicros),
      open_reservations: snap.holds,
      on_exhausted: settings.on_exhausted,
      alert_thresholds: settings.alert_thresholds,
    },
  };
}
