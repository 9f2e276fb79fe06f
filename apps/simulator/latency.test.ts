import { describe, expect, it } from 'vitest';
import { lognormalParams, sampleLatencyMs } from './latency.ts';
import { createRng } from './random.ts';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

describe('latency', () => {
  it('fixed latency is exact', () => {
    const rng = createRng(7);
    expect(sampleLatencyMs({ kind: 'fixed', ms: 250 }, rng)).toBe(250);
    expect(sampleLatencyMs({ kind: 'fixed', ms: 0 }, rng)).toBe(0);
  });

  it('derives mu and sigma from p50 and p95', () => {
    const { mu, sigma } = lognormalParams(400, 1500);
    expect(Math.exp(mu)).toBeCloseTo(400, 9);
    expect(Math.exp(mu + 1.6448536269514722 * sigma)).toBeCloseTo(1500, 6);
    expect(lognormalParams(300, 300).sigma).toBe(0);
  });

  it('lognormal samples reproduce the configured p50 and p95', () => {
    const rng = createRng(42);
    const knob = { kind: 'lognormal', p50_ms: 400, p95_ms: 1500 } as const;
    const samples = Array.from({ length: 40_000 }, () => sampleLatencyMs(knob, rng)).sort((a, b) => a - b);
    expect(quantile(samples, 0.5)).toBeGreaterThan(400 * 0.95);
    expect(quantile(samples, 0.5)).toBeLessThan(400 * 1.05);
    expect(quantile(samples, 0.95)).toBeGreaterThan(1500 * 0.93);
    expect(quantile(samples, 0.95)).toBeLessThan(1500 * 1.07);
    expect(samples[0]).toBeGreaterThanOrEqual(0);
  });

  it('the same seed gives the same samples', () => {
    const knob = { kind: 'lognormal', p50_ms: 100, p95_ms: 900 } as const;
    const a = createRng(3);
    const b = createRng(3);
    const xs = Array.from({ length: 20 }, () => sampleLatencyMs(knob, a));
    expect(Array.from({ length: 20 }, () => sampleLatencyMs(knob, b))).toEqual(xs);
  });
});
