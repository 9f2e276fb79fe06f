import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../config/load.ts';
import type { BudgetSnapshot } from '../../budget/budgetStore.ts';
import { budgetFigures, smallestJobMicros } from './budget.ts';

const cfg = loadConfig('config');
const at = new Date('2026-12-02T00:00:00Z');
const limit = Math.round(cfg.rateLimits.budget.monthly_usd * 1e6);

function snapshot(spent: number, reserved = 0): BudgetSnapshot {
  const window = { spent, reserved, charged: 0, period: 'x', limit: null, endsAt: 0 };
  return { month: { ...window, forecastMicros: spent * 2 }, day: { ...window, spent: 0, reserved: 0 }, holds: 0 };
}

describe('budgetFigures', () => {
  test('reports the month in US dollars', () => {
    expect(budgetFigures(snapshot(1_500_000, 250_000), cfg, at)).toEqual({ spentUsd: 1.5, reservedUsd: 0.25, limitUsd: cfg.rateLimits.budget.monthly_usd, forecastUsd: 3, exhausted: false });
  });

  test('exhausted once what is left cannot admit the smallest job, before 100%', () => {
    const job = smallestJobMicros(cfg, at);
    expect(job).toBeGreaterThan(0);
    expect(budgetFigures(snapshot(limit - job), cfg, at).exhausted).toBe(false);
    expect(budgetFigures(snapshot(limit - job + 1), cfg, at).exhausted).toBe(true);
    // Reservations in flight count: a job cannot reserve what they hold.
    expect(budgetFigures(snapshot(limit - job - 10, 11), cfg, at).exhausted).toBe(true);
  });

  test('a daily limit exhausts on its own', () => {
    const daily = { ...cfg, rateLimits: { ...cfg.rateLimits, budget: { ...cfg.rateLimits.budget, daily_usd: 1 } } };
    const snap = snapshot(0);
    snap.day.spent = 1_000_000;
    expect(budgetFigures(snap, daily, at).exhausted).toBe(true);
  });
});
