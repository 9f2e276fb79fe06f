/** The demo's simulated users rate their completed answers through the API (see ratings.ts: the ratings are simulated). */
import type { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { deriveCategory } from '../../libs/features/category.ts';
import { seededRng } from '../../libs/stats/index.ts';
import { careerInput } from './profiles.ts';
import { simulatedRating } from './ratings.ts';

/** Seed of the demo's ratings: the same jobs and assignments get the same ratings on every run. */
export const RATING_SEED = 20_241_101;

/** Ratings sent at once; more would only spend the client's read budget faster. */
const CONCURRENCY = 10;

interface FinishedJob {
  id?: unknown;
  status?: unknown;
  experiment?: { variant?: string } | null;
  metadata?: { request_number?: unknown } | null;
}

/**
 * Posts one simulated rating for each completed job, in request order (so the seeded draws land on
 * the same jobs every run); answers how many were rated.
 */
export async function rateAnswers(client: Pick<GatewayClient, 'feedback'>, jobs: readonly Record<string, unknown>[]): Promise<number> {
  const rng = seededRng(RATING_SEED);
  const ratings = (jobs as readonly unknown[] as readonly FinishedJob[])
    .filter((j) => j.status === 'completed' && typeof j.id === 'string')
    .map((j) => ({ id: j.id as string, n: Number(j.metadata?.request_number ?? 0), variant: j.experiment?.variant ?? '' }))
    .sort((a, b) => a.n - b.n)
    .map((j) => ({ id: j.id, rating: simulatedRating(j.variant, deriveCategory(careerInput(j.n)).sector, rng) }));
  for (let i = 0; i < ratings.length; i += CONCURRENCY) {
    await Promise.all(ratings.slice(i, i + CONCURRENCY).map((r) => client.feedback(r.id, { rating: r.rating })));
  }
  return ratings.length;
}
