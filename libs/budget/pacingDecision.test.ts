import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFER_SPREAD_MS, deferUntil, heldBackMicros, pacingCurveOf, pacingDecision, spreadOf, todayAllowanceMicros, type PacingFacts } from './pacingDecision.ts';

const LIMIT = 3_000_000_000; // $3,000 over November's 30 days: $100 a day on the even curve
const NOV_10_NOON = Date.parse('2026-11-10T12:00:00Z');
const NOV_11 = Date.parse('2026-11-11T00:00:00Z');
// 9 days spent exactly their share: today's allowance is $100.
const base: PacingFacts = { todayMicros: 0, spentBeforeTodayMicros: 900_000_000, limitMicros: LIMIT, now: NOV_10_NOON, action: 'defer', worstCaseMicros: 500_000 };

describe('pacingDecision', () => {
  test("a job that fits what is left of today's allowance runs as planned", () => {
    expect(todayAllowanceMicros(base)).toBe(100_000_000);
    expect(pacingDecision({ ...base, todayMicros: 99_500_000 })).toEqual({ kind: 'none' });
  });

  test('past the allowance, defer: to the next UTC midnight plus the spread', () => {
    expect(pacingDecision({ ...base, todayMicros: 99_500_001 })).toEqual({ kind: 'defer', untilMs: NOV_11 });
    expect(pacingDecision({ ...base, todayMicros: 120_000_000, spread: 0.5 })).toEqual({ kind: 'defer', untilMs: NOV_11 + DEFER_SPREAD_MS / 2 });
  });

  test('batch moves an eligible job; one whose deadline leaves no room is deferred', () => {
    const over = { ...base, todayMicros: 100_000_000, action: 'batch' as const };
    expect(pacingDecision({ ...over, batchEligible: true })).toEqual({ kind: 'batch' });
    expect(pacingDecision({ ...over, batchEligible: false })).toEqual({ kind: 'defer', untilMs: NOV_11 });
  });

  test('downgrade when the cheapest model fits what is left, else defer', () => {
    const over = { ...base, todayMicros: 99_800_000, action: 'downgrade' as const };
    expect(pacingDecision({ ...over, cheapestWorstCaseMicros: 150_000 })).toEqual({ kind: 'downgrade', maxMicros: 200_000 });
    expect(pacingDecision({ ...over, cheapestWorstCaseMicros: 250_000 })).toEqual({ kind: 'defer', untilMs: NOV_11 });
    expect(pacingDecision(over)).toEqual({ kind: 'defer', untilMs: NOV_11 });
  });

  test("a day's first job runs even when dearer than the whole allowance; a day with no allowance runs none", () => {
    expect(pacingDecision({ ...base, worstCaseMicros: 200_000_000 })).toEqual({ kind: 'none' });
    expect(pacingDecision({ ...base, spentBeforeTodayMicros: LIMIT }).kind).toBe('defer');
    // Sunday weighs 0: nothing is planned for it.
    const sunday = Date.parse('2026-11-08T10:00:00Z');
    expect(pacingDecision({ ...base, now: sunday, curve: pacingCurveOf({ weekday_weights: [0, 1, 1, 1, 1, 1, 1] }) }).kind).toBe('defer');
  });

  test('property: a run decision never takes today past its allowance, except a lone first job', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: LIMIT }),
        fc.integer({ min: 0, max: 200_000_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: Date.parse('2026-11-01T00:00:00Z'), max: Date.parse('2026-11-30T23:59:59Z') }),
        fc.constantFrom('defer', 'downgrade', 'batch'),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (spentBefore, today, worst, now, action, eligible, spread) => {
          const f: PacingFacts = { todayMicros: today, spentBeforeTodayMicros: spentBefore, limitMicros: LIMIT, now, action, worstCaseMicros: worst, cheapestWorstCaseMicros: Math.floor(worst / 3), batchEligible: eligible, spread };
          const d = pacingDecision(f);
          const allowance = todayAllowanceMicros(f);
          if (d.kind === 'none') expect(today + worst <= allowance || today === 0).toBe(true);
          else expect(today + worst).toBeGreaterThan(allowance);
          if (d.kind === 'downgrade') expect(today + Math.floor(worst / 3)).toBeLessThanOrEqual(allowance);
          if (d.kind === 'batch') expect([action, eligible]).toEqual(['batch', true]);
          if (d.kind === 'defer') {
            // Tomorrow, within the spread: never today, never later than the spread.
            const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
            expect(d.untilMs).toBeGreaterThanOrEqual(midnight);
            expect(d.untilMs).toBeLessThan(midnight + DEFER_SPREAD_MS);
          }
          expect(heldBackMicros(d, f)).toBe(d.kind === 'none' ? 0 : d.kind === 'downgrade' ? worst - Math.floor(worst / 3) : worst);
        },
      ),
    );
  });
});

describe('spreadOf and deferUntil', () => {
  test('a key always lands at the same place in [0, 1); keys spread over it', () => {
    expect(spreadOf('job-1')).toBe(spreadOf('job-1'));
    const xs = Array.from({ length: 1000 }, (_, i) => spreadOf(`job-${i}`));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // Each tenth of the spread gets some of a thousand jobs.
    expect(new Set(xs.map((x) => Math.floor(x * 10))).size).toBe(10);
    expect(deferUntil(Date.parse('2026-11-30T23:59:59Z'), 0)).toBe(Date.parse('2026-12-01T00:00:00Z'));
  });
});
