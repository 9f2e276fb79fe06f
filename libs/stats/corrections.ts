/**
 * Multiple-comparison corrections for the per-category view: testing many categories at 0.05
 * each would find "winners" by chance. Both return adjusted p-values in the input order, to be
 * compared with the unadjusted alpha.
 */
import { invalidInput } from './errors.ts';

function check(pValues: readonly number[]): void {
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw invalidInput(`p-values must be within [0, 1], got ${p}`);
}

function ascendingOrder(pValues: readonly number[]): number[] {
  return pValues.map((_, i) => i).sort((i, j) => pValues[i]! - pValues[j]!);
}

/** Holm's step-down adjustment (controls the family-wise error rate, no independence assumed). */
export function holmAdjust(pValues: readonly number[]): number[] {
  check(pValues);
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  let running = 0;
  ascendingOrder(pValues).forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[index]!));
    adjusted[index] = running;
  });
  return adjusted;
}

/** Benjamini–Hochberg step-up adjustment (controls the false discovery rate; independent or positively dependent tests). */
export function benjaminiHochbergAdjust(pValues: readonly number[]): number[] {
  check(pValues);
  const m = pValues.length;
  const adjusted = new Array<number>(m);
  const order = ascendingOrder(pValues);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const index = order[rank]!;
    running = Math.min(running, (m / (rank + 1)) * pValues[index]!);
    adjusted[index] = running;
  }
  return adjusted;
}

/** Which multiple-comparison correction to apply. */
export type Correction = 'holm' | 'bh';

/** Adjusted p-values by the named correction. */
export function adjustPValues(pValues: readonly number[], method: Correction): number[] {
  return method === 'holm' ? holmAdjust(pValues) : benjaminiHochbergAdjust(pValues);
}
