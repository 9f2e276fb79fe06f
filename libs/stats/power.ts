/**
 * Sample sizes for a decision: how many jobs (or ratings) per variant a two-sided test at level
 * alpha needs to detect the observed difference with the given power. Used to say "no detectable
 * difference yet; need ~N more" instead of a bare "not significant".
 */
import jstatPkg from 'jstat';
import { normalQuantile } from './distributions.ts';
import { assertOpenUnit, invalidInput } from './errors.ts';

const { jStat } = jstatPkg;

/** Test level and power. */
export interface PowerOptions {
  /** Two-sided significance level. @defaultValue 0.05 */
  alpha?: number;
  /** Probability of detecting the effect when it is real. @defaultValue 0.8 */
  power?: number;
}

/** Above this per-group size the t and normal distributions agree to well under one observation. */
const NORMAL_ENOUGH = 5000;

function levels(options: PowerOptions): { alpha: number; power: number; zSum: number; zAlpha: number } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  assertOpenUnit(alpha, 'alpha');
  assertOpenUnit(power, 'power');
  const zAlpha = normalQuantile(1 - alpha / 2);
  return { alpha, power, zAlpha, zSum: zAlpha + normalQuantile(power) };
}

/** Cohen's h: the difference of arcsine-transformed proportions, 2·asin(√p1) − 2·asin(√p2). */
export function cohensH(p1: number, p2: number): number {
  if (!(p1 >= 0 && p1 <= 1 && p2 >= 0 && p2 <= 1)) throw invalidInput(`proportions must be within [0, 1], got ${p1} and ${p2}`);
  return 2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2));
}

/**
 * Jobs per group to detect rates p1 vs p2 (equal groups, arcsine normal approximation as in
 * Cohen 1988 ch. 6 and statsmodels' NormalIndPower); null when p1 = p2 (no effect to detect).
 */
export function sampleSizeProportions(p1: number, p2: number, options: PowerOptions = {}): number | null {
  const n = sampleSizeFromH(cohensH(p1, p2), options);
  return n === null ? null : Math.ceil(n);
}

/** Unrounded observations per group for Cohen's h (normal approximation: 2·((z₁₋α/₂ + z_power)/h)²); null when h = 0. */
export function sampleSizeFromH(h: number, options: PowerOptions = {}): number | null {
  const { zSum } = levels(options);
  if (h === 0) return null;
  return 2 * (zSum / h) ** 2;
}

/** Power of a two-sided two-sample t-test with n per group and standardized effect d (noncentral t). */
export function tTestPower(d: number, nPerGroup: number, alpha = 0.05): number {
  const df = 2 * nPerGroup - 2;
  const critical = jStat.studentt.inv(1 - alpha / 2, df);
  const ncp = Math.abs(d) * Math.sqrt(nPerGroup / 2);
  return 1 - jStat.noncentralt.cdf(critical, df, ncp) + jStat.noncentralt.cdf(-critical, df, ncp);
}

/**
 * Observations per group to detect a standardized mean difference d (Cohen's d) with a two-sided
 * two-sample t-test (as G*Power computes it); null when d = 0.
 */
export function sampleSizeMeans(d: number, options: PowerOptions = {}): number | null {
  const { alpha, power, zSum, zAlpha } = levels(options);
  if (!Number.isFinite(d)) throw invalidInput(`effect size must be finite, got ${d}`);
  if (d === 0) return null;
  // Normal approximation plus the usual small-sample correction, then refine with the t distribution.
  let n = Math.max(2, Math.ceil(2 * (zSum / d) ** 2 + zAlpha ** 2 / 4));
  if (n > NORMAL_ENOUGH) return n;
  while (n > 2 && tTestPower(d, n - 1, alpha) >= power) n--;
  while (tTestPower(d, n, alpha) < power) n++;
  return n;
}

/** Cohen's d from a difference in means and the two groups' standard deviations (root mean square). */
export function cohensDFromDifference(difference: number, sdA: number, sdB: number): number | null {
  const pooled = Math.sqrt((sdA ** 2 + sdB ** 2) / 2);
  return pooled > 0 ? difference / pooled : null;
}

/** More observations needed in the smaller group to reach `requiredPerGroup` (0 when already there; null stays null). */
export function additionalNeeded(requiredPerGroup: number | null, nA: number, nB: number): number | null {
  if (requiredPerGroup === null) return null;
  return Math.max(0, requiredPerGroup - Math.min(nA, nB));
}

/**
 * Observations per group for a two-sided Mann–Whitney test to detect a probability of
 * superiority P(a > b) + P(a = b)/2 = `p` (0.5: no effect), by Noether's (1987) formula with
 * equal groups: N_total = (z₁₋α/₂ + z_power)² / (3·(p − 0.5)²); null when p = 0.5.
 */
export function sampleSizeMannWhitney(p: number, options: PowerOptions = {}): number | null {
  if (!(p >= 0 && p <= 1)) throw invalidInput(`probability of superiority must be within [0, 1], got ${p}`);
  const { zSum } = levels(options);
  if (p === 0.5) return null;
  return Math.ceil(zSum ** 2 / (3 * (p - 0.5) ** 2) / 2);
}
