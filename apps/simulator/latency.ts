/**
 * Latency sampling for simulated provider calls. Pure: the caller passes the random source.
 */
import type { Rng } from './random.ts';

/** A latency model: a constant, or a log-normal fitted to its median and 95th percentile. */
export type LatencyKnob = { kind: 'fixed'; ms: number } | { kind: 'lognormal'; p50_ms: number; p95_ms: number };

/** z-score of the 95th percentile of the standard normal distribution. */
const Z95 = 1.6448536269514722;

/** Parameters of ln(X) ~ Normal(mu, sigma) such that X has the given p50 and p95 (milliseconds). */
export function lognormalParams(p50Ms: number, p95Ms: number): { mu: number; sigma: number } {
  const mu = Math.log(p50Ms);
  return { mu, sigma: (Math.log(p95Ms) - mu) / Z95 };
}

/** A standard normal draw (Box-Muller); 1 - rng() keeps the logarithm's argument above zero. */
export function standardNormal(rng: Rng): number {
  const u1 = 1 - rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One latency sample in whole milliseconds (>= 0). */
export function sampleLatencyMs(knob: LatencyKnob, rng: Rng): number {
  if (knob.kind === 'fixed') return Math.max(0, Math.round(knob.ms));
  const { mu, sigma } = lognormalParams(knob.p50_ms, knob.p95_ms);
  return Math.max(0, Math.round(Math.exp(mu + sigma * standardNormal(rng))));
}
