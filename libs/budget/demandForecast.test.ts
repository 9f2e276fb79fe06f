import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { demandForecast, last24hDemandMicros, ordinalDay } from './demandForecast.ts';

const LIMIT = 3_000_000_000; // $3,000 in a 30-day month: $100 a day

describe('last24hDemandMicros', () => {
  test("all of today's demand and yesterday's by the share of it still inside the 24 hours", () => {
    expect(last24hDemandMicros(10, 100, Date.parse('2026-11-10T00:00:00Z'))).toBe(110);
    expect(last24hDemandMicros(10, 100, Date.parse('2026-11-10T06:00:00Z'))).toBe(85);
    expect(last24hDemandMicros(10, 100, Date.parse('2026-11-10T18:00:00Z'))).toBe(35);
  });
});

describe('demandForecast', () => {
  test('demand at 1.5x the pace runs out on the 21st; at 0.9x it lasts the month', () => {
    // The 10th at midnight: $900 spent, yesterday's demand $150, today none yet.
    const now = Date.parse('2026-11-10T00:00:00Z');
    const fast = demandForecast(LIMIT, { monthMicros: 900_000_000, todayDemandMicros: 0, yesterdayDemandMicros: 150_000_000 }, now);
    expect(fast).toEqual({ paceMicrosPerDay: 150_000_000, monthEndMicros: 900_000_000 + 21 * 150_000_000, exhaustsOn: '2026-11-24' });
    const slow = demandForecast(LIMIT, { monthMicros: 810_000_000, todayDemandMicros: 0, yesterdayDemandMicros: 90_000_000 }, now);
    expect(slow).toEqual({ paceMicrosPerDay: 90_000_000, monthEndMicros: 2_700_000_000, exhaustsOn: null });
  });

  test('property: it runs out this month exactly when the month-end projection reaches the limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LIMIT - 1 }),
        fc.integer({ min: 0, max: 500_000_000 }),
        fc.integer({ min: 0, max: 500_000_000 }),
        fc.integer({ min: Date.parse('2026-11-01T00:00:00Z'), max: Date.parse('2026-11-30T23:59:59Z') }),
        (month, today, yesterday, now) => {
          const f = demandForecast(LIMIT, { monthMicros: month, todayDemandMicros: today, yesterdayDemandMicros: yesterday }, now);
          expect(f.monthEndMicros).toBeGreaterThanOrEqual(month);
          // Rounding (the projection rounds up) may differ by a micro-dollar at the boundary.
          if (f.exhaustsOn !== null) expect(f.monthEndMicros).toBeGreaterThanOrEqual(LIMIT);
          else expect(f.monthEndMicros).toBeLessThanOrEqual(LIMIT + 1);
        },
      ),
    );
  });
});

test('ordinalDay names the day as people say it', () => {
  expect(['2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-11', '2026-12-12', '2026-12-13', '2026-12-21', '2026-12-22', '2026-12-31'].map(ordinalDay)).toEqual([
    'the 1st', 'the 2nd', 'the 3rd', 'the 4th', 'the 11th', 'the 12th', 'the 13th', 'the 21st', 'the 22nd', 'the 31st',
  ]);
});
