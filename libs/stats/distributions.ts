/**
 * Thin wrappers over jStat's distributions, so the rest of the library never touches the
 * untyped module and every tail probability is computed one way.
 */
import jstatPkg from 'jstat';

const { jStat } = jstatPkg;

/** Standard normal cumulative probability P(Z <= z). */
export function normalCdf(z: number): number {
  return jStat.normal.cdf(z, 0, 1);
}

/** Standard normal quantile: the z with P(Z <= z) = p, for 0 < p < 1. */
export function normalQuantile(p: number): number {
  return jStat.normal.inv(p, 0, 1);
}

/** Two-sided p-value of a standard normal statistic: P(|Z| >= |z|). */
export function normalTwoSided(z: number): number {
  return Math.min(1, 2 * (1 - normalCdf(Math.abs(z))));
}

/** Student t cumulative probability P(T <= t) with `df` (possibly fractional) degrees of freedom. */
export function tCdf(t: number, df: number): number {
  return jStat.studentt.cdf(t, df);
}

/** Student t quantile: the t with P(T <= t) = p, for `df` degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  return jStat.studentt.inv(p, df);
}

/** Two-sided p-value of a t statistic with `df` degrees of freedom: P(|T| >= |t|). */
export function tTwoSided(t: number, df: number): number {
  return Math.min(1, 2 * (1 - tCdf(Math.abs(t), df)));
}

/** Upper tail of the chi-square distribution: P(X >= x) with `df` degrees of freedom. */
export function chiSquareUpper(x: number, df: number): number {
  return Math.max(0, 1 - jStat.chisquare.cdf(x, df));
}

/** Natural log of n! (via the log-gamma function), for counts. */
export function logFactorial(n: number): number {
  return jStat.gammaln(n + 1);
}
