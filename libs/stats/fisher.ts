/**
 * Fisher's exact test for a 2×2 table, used for error rates when counts are small and the
 * normal approximation of the two-proportion z-test is poor.
 */
import { logFactorial } from './distributions.ts';
import { assertCount } from './errors.ts';

/** A 2×2 table: rows are groups (a, b), columns are (event, no event). */
export interface TwoByTwo {
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * Two-sided p-value of Fisher's exact test for [[a, b], [c, d]]: the total probability of the
 * tables with the same margins that are no more likely than the observed one (R's fisher.test rule).
 */
export function fisherExact({ a, b, c, d }: TwoByTwo): number {
  for (const [name, v] of Object.entries({ a, b, c, d })) assertCount(v, name);
  const row1 = a + b;
  const row2 = c + d;
  const col1 = a + c;
  const n = row1 + row2;
  const fixed = logFactorial(row1) + logFactorial(row2) + logFactorial(col1) + logFactorial(n - col1) - logFactorial(n);
  const logP = (x: number): number => fixed - logFactorial(x) - logFactorial(row1 - x) - logFactorial(col1 - x) - logFactorial(row2 - col1 + x);
  const observed = logP(a);
  // Relative tolerance so tables equal in probability but for rounding count as "as extreme".
  const threshold = observed + Math.log1p(1e-7);
  let p = 0;
  for (let x = Math.max(0, col1 - row2); x <= Math.min(row1, col1); x++) {
    const lp = logP(x);
    if (lp <= threshold) p += Math.exp(lp);
  }
  return Math.min(1, p);
}
