import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assertPacingCurve, dailyAllowanceMicros, exhaustionDay, monthToDatePace, projectedMonthEndMicros, type PacingCurve } from './pacing.ts';

const at = (iso: string) => new Date(iso);
const LIMIT = 5_000_000_000; // $5,000

/** Spends each day of a month the smaller of its demand and its allowance; answers the spend per day. */
function month(start: string, days: number, demandPerDay: number, curve?: PacingCurve): number[] {
  const spent: number[] = [];
  let total = 0;
  for (let d = 0; d < days; d++) {
    const now = new Date(Date.parse(start) + d * 86_400_000 + 3_600_000);
    const today = Math.min(demandPerDay, dailyAllowanceMicros(LIMIT, total, now, curve));
    spent.push(today);
    total += today;
  }
  return spent;
}

describe('dailyAllowanceMicros', () => {
  test('even: what remains over the days left, today included', () => {
    expect(dailyAllowanceMicros(LIMIT, 0, at('2026-11-01T08:00:00Z'))).toBe(Math.floor(LIMIT / 30));
    // 20 days spent half the budget: the other half over the 10 days left.
    expect(dailyAllowanceMicros(LIMIT, LIMIT / 2, at('2026-11-21T23:59:59Z'))).toBe(LIMIT / 2 / 10);
    expect(dailyAllowanceMicros(LIMIT, LIMIT, at('2026-11-30T12:00:00Z'))).toBe(0);
    expect(dailyAllowanceMicros(LIMIT, LIMIT * 2, at('2026-11-30T12:00:00Z'))).toBe(0);
  });

  test('weekday: today weighs its weight over the weights of the days left', () => {
    // Weekdays only. 2026-11-28 is a Saturday, 30th a Monday: the Monday takes all that remains.
    const weekdays: PacingCurve = { kind: 'weekday', weights: [0, 1, 1, 1, 1, 1, 0] };
    expect(dailyAllowanceMicros(LIMIT, 4_000_000_000, at('2026-11-28T10:00:00Z'), weekdays)).toBe(0);
    expect(dailyAllowanceMicros(LIMIT, 4_000_000_000, at('2026-11-30T10:00:00Z'), weekdays)).toBe(1_000_000_000);
    // 2026-12-01 is a Tuesday: 23 weekdays in December.
    expect(dailyAllowanceMicros(LIMIT, 0, at('2026-12-01T00:00:00Z'), weekdays)).toBe(Math.floor(LIMIT / 23));
  });

  test('a month that spends every allowance ends within a day of rounding of the limit, never past it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 11 }), fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 7, maxLength: 7 }).filter((w) => w.some((x) => x > 0)), (m, weights) => {
        const start = new Date(Date.UTC(2026, m, 1)).toISOString();
        const days = new Date(Date.UTC(2026, m + 1, 0)).getUTCDate();
        for (const curve of [undefined, { kind: 'weekday', weights } as const]) {
          const total = month(start, days, Number.MAX_SAFE_INTEGER, curve).reduce((a, b) => a + b, 0);
          expect(total).toBeLessThanOrEqual(LIMIT);
          // Weights that leave the month's last days at 0 may leave a remainder only when no day weighs.
          expect(LIMIT - total).toBeLessThan(days);
        }
      }),
    );
  });

  test('demand at 1.5x the even pace: every day spends within 5% of the even line (the cap is never passed)', () => {
    const spent = month('2026-11-01T00:00:00Z', 30, Math.round((LIMIT / 30) * 1.5));
    let cumulative = 0;
    spent.forEach((s, d) => {
      cumulative += s;
      const line = (LIMIT * (d + 1)) / 30;
      expect(Math.abs(cumulative - line) / line).toBeLessThanOrEqual(0.05);
    });
    expect(cumulative).toBeLessThanOrEqual(LIMIT);
  });

  test('a day that spends less leaves more to the days after it', () => {
    const before = dailyAllowanceMicros(LIMIT, LIMIT / 30, at('2026-11-02T10:00:00Z'));
    const after = dailyAllowanceMicros(LIMIT, 0, at('2026-11-02T10:00:00Z'));
    expect(after).toBeGreaterThan(before);
  });
});

describe('assertPacingCurve', () => {
  test.each([[[1, 1, 1]], [[0, 0, 0, 0, 0, 0, 0]], [[1, 1, 1, 1, 1, 1, -1]], [[1, 1, 1, 1, 1, 1, Number.NaN]]])('refuses %j with a stable code', (weights) => {
    expect(() => assertPacingCurve({ kind: 'weekday', weights })).toThrow(expect.objectContaining({ code: 'invalid_pacing_curve' }));
  });
});

describe('exhaustionDay and projectedMonthEndMicros', () => {
  test('at the pace that runs out on the 21st, the 21st; at the even pace, not this month', () => {
    const now = at('2026-11-11T00:00:00Z');
    const spent = 2_000_000_000;
    expect(exhaustionDay(LIMIT, spent, now, 300_000_000)).toBe('2026-11-21');
    expect(exhaustionDay(LIMIT, spent, now, 150_000_000)).toBeNull();
    expect(exhaustionDay(LIMIT, LIMIT, now, 0)).toBe('2026-11-11');
    expect(exhaustionDay(LIMIT, spent, now, 0)).toBeNull();
    expect(projectedMonthEndMicros(spent, now, 150_000_000)).toBe(spent + 20 * 150_000_000);
    expect(projectedMonthEndMicros(spent, at('2026-11-30T12:00:00Z'), 100_000_000)).toBe(spent + 50_000_000);
  });
});

describe('monthToDatePace', () => {
  test('spent over the days elapsed; the first hour counts as an hour', () => {
    expect(monthToDatePace(2_000_000_000, at('2026-11-11T00:00:00Z'))).toBe(200_000_000);
    expect(monthToDatePace(1_000, at('2026-11-01T00:00:01Z'))).toBe(24_000);
    // $2,000 in 10 days against $5,000: on pace to run out on the 26th (day 25 ends at $5,000).
    const now = at('2026-11-11T00:00:00Z');
    expect(exhaustionDay(LIMIT, 2_000_000_000, now, monthToDatePace(2_000_000_000, now))).toBe('2026-11-26');
  });
});
