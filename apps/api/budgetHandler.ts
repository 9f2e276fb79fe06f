import type { GatewayConfig } from '../../libs/config/types.ts';
import type { BudgetStore, WindowSnapshot } from '../../libs/budget/budgetStore.ts';
import { budgetLimits } from '../../libs/budget/reservation.ts';
import { microsToUsd } from '../../libs/budget/cost.ts';
import { exhaustionDay, monthToDatePace } from '../../libs/budget/pacing.ts';
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

/** GET /v1/budget: spend, reservations and limits of the current day and month, a month-end forecast and the day the month's budget runs out at its pace. */
export async function getBudget(budget: BudgetStore, config: () => GatewayConfig): Promise<HandlerResult> {
  const settings = config().rateLimits.budget;
  const limits = budgetLimits(settings);
  const snap = await budget.snapshot();
  const now = new Date();
  return {
    status: 200,
    body: {
      month: {
        ...windowView(snap.month, limits.monthlyMicros),
        forecast_usd: microsToUsd(snap.month.forecastMicros),
        // The UTC day the month's limit is reached at the month's pace so far; null if not this month.
        exhausts_on: exhaustionDay(limits.monthlyMicros, snap.month.spent, now, monthToDatePace(snap.month.spent, now)),
      },
      day: windowView(snap.day, limits.dailyMicros),
      open_reservations: snap.holds,
      on_exhausted: settings.on_exhausted,
      alert_thresholds: settings.alert_thresholds,
    },
  };
}
