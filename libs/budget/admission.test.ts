import { describe, expect, test } from 'vitest';
import type { BudgetSnapshot } from './budgetStore.ts';
import { capReached, leavesHeadroom } from './admission.ts';

const snapshot = (monthSpent: number, daySpent: number): BudgetSnapshot => ({
  month: { period: '2026-11', spent: monthSpent, reserved: 500, charged: 0, limit: null, endsAt: 2000, forecastMicros: 0 },
  day: { period: '2026-11-25', spent: daySpent, reserved: 500, charged: 0, limit: null, endsAt: 1000 },
  holds: 1,
});

describe('capReached', () => {
  test('open while the cheapest job still fits, whatever is reserved', () => {
    expect(capReached(snapshot(900, 900), { monthlyMicros: 1000, dailyMicros: null }, 100)).toBeNull();
  });

  test('the month, then the day, closes when the cheapest job no longer fits', () => {
    expect(capReached(snapshot(901, 0), { monthlyMicros: 1000, dailyMicros: null }, 100)).toEqual({ window: 'month', retryAtMs: 2000 });
    expect(capReached(snapshot(0, 450), { monthlyMicros: 1000, dailyMicros: 500 }, 100)).toEqual({ window: 'day', retryAtMs: 1000 });
  });
});

describe('leavesHeadroom', () => {
  const month = { monthlyMicros: 10_000, dailyMicros: null };
  test('counts spent and reserved against the share of each limit', () => {
    // 900 spent + 500 reserved + 6,600 = 8,000 = 80% of 10,000.
    expect(leavesHeadroom(snapshot(900, 0), month, 6600, 0.8)).toBe(true);
    expect(leavesHeadroom(snapshot(900, 0), month, 6601, 0.8)).toBe(false);
  });

  test('a daily limit binds too', () => {
    expect(leavesHeadroom(snapshot(0, 300), { monthlyMicros: 10_000, dailyMicros: 1000 }, 0, 0.8)).toBe(true);
    expect(leavesHeadroom(snapshot(0, 301), { monthlyMicros: 10_000, dailyMicros: 1000 }, 0, 0.8)).toBe(false);
  });
});
