/**
 * The demo's simulated users rate their answers, so the A/B report has ratings to compare. The
 * ratings are made up: drawn from a seeded distribution whose mean depends on the variant and the
 * request's sector, so that the report has a real difference to find overall and a reversed one in
 * one sector. Nothing here is a measurement of either model.
 */
import type { Rng } from '../../libs/stats/index.ts';

/** Mean rating (1-5) of each variant's answers before the sector's adjustment. */
export const VARIANT_MEAN: Readonly<Record<string, number>> = { gpt4: 3.4, claude: 4.1 };

/** Mean of a variant not in VARIANT_MEAN. */
const OTHER_MEAN = 3.8;

/** Added to a variant's mean in a sector (slugged, as the report's categories are). */
export const SECTOR_EFFECT: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  // In healthcare the simulated users prefer gpt4: the per-category table should show it.
  healthcare: { gpt4: 1.1, claude: -0.3 },
};

/** Standard deviation of one rating around its mean, before rounding to a whole star. */
export const RATING_SD = 0.8;

/** One simulated rating: a whole number of stars from 1 to 5, drawn with `rng`. */
export function simulatedRating(variant: string, sector: string, rng: Rng): number {
  const mean = (VARIANT_MEAN[variant] ?? OTHER_MEAN) + (SECTOR_EFFECT[sector]?.[variant] ?? 0);
  // Box-Muller: a standard normal from two uniforms (1 - u keeps the logarithm finite).
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.min(5, Math.max(1, Math.round(mean + RATING_SD * z)));
}
