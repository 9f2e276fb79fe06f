/**
 * The fields of a job the A/B report reads, and the one normalisation both adapters apply to what
 * their database hands back (SQLite answers booleans as 0/1, MongoDB omits missing fields).
 */
import { UNKNOWN } from '../features/category.ts';
import type { ExperimentRow, JobStatus, ServedBy } from './types.ts';

/**
 * The record fields an ExperimentRow is read from, as paths into a job record, in the order
 * SQLite's multi-path json_extract answers them. `rating` comes from the feedback, not the job.
 */
export const EXPERIMENT_ROW_PATHS = {
  variant: 'experiment.variant',
  status: 'status',
  provider: 'provider',
  model: 'model',
  served_by: 'served_by',
  cache: 'cache',
  degraded: 'degraded',
  cost_usd: 'cost_usd',
  input_tokens: 'usage.input_tokens',
  output_tokens: 'usage.output_tokens',
  provider_latency_ms: 'latency_ms.provider',
  total_latency_ms: 'latency_ms.total',
  queue_latency_ms: 'latency_ms.queue',
  created_at: 'created_at',
  user_id: 'user_id',
  job_id: 'id',
  sector: 'category.sector',
  degree_level: 'category.degree_level',
  experience_band: 'category.experience_band',
  holdout: 'experiment.holdout',
} as const satisfies Record<Exclude<keyof ExperimentRow, 'rating' | 'unit'> | 'user_id' | 'job_id', string>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

type RowField = keyof typeof EXPERIMENT_ROW_PATHS | 'rating';

/** An ExperimentRow from loosely typed fields; anything missing or mistyped becomes null. */
export function toExperimentRow(raw: Record<string, unknown>): ExperimentRow {
  return normalise((name) => raw[name]);
}

const FIELD_INDEX = Object.fromEntries(Object.keys(EXPERIMENT_ROW_PATHS).map((name, i) => [name, i])) as Record<keyof typeof EXPERIMENT_ROW_PATHS, number>;

/**
 * An ExperimentRow from the values of EXPERIMENT_ROW_PATHS in their order (SQLite's multi-path
 * json_extract) and the rating: as toExperimentRow, without building an object of the fields
 * first (a report reads hundreds of thousands of rows).
 */
export function experimentRowFromValues(values: readonly unknown[], rating: unknown): ExperimentRow {
  return normalise((name) => (name === 'rating' ? rating : values[FIELD_INDEX[name]]));
}

function normalise(field: (name: RowField) => unknown): ExperimentRow {
  const cache = field('cache');
  const degraded = field('degraded');
  const holdout = field('holdout');
  return {
    variant: str(field('variant')) ?? '',
    status: (str(field('status')) ?? 'failed') as JobStatus,
    provider: str(field('provider')),
    model: str(field('model')),
    served_by: str(field('served_by')) as ServedBy | null,
    cache: cache === 'hit' || cache === 'miss' ? cache : null,
    degraded: degraded === true || degraded === 1,
    cost_usd: num(field('cost_usd')),
    input_tokens: num(field('input_tokens')),
    output_tokens: num(field('output_tokens')),
    provider_latency_ms: num(field('provider_latency_ms')),
    total_latency_ms: num(field('total_latency_ms')),
    rating: num(field('rating')),
    queue_latency_ms: num(field('queue_latency_ms')),
    created_at: str(field('created_at')) ?? '',
    unit: str(field('user_id')) ?? str(field('job_id')) ?? '',
    sector: str(field('sector')) ?? UNKNOWN,
    degree_level: str(field('degree_level')) ?? UNKNOWN,
    experience_band: str(field('experience_band')) ?? UNKNOWN,
    holdout: holdout === true || holdout === 1,
  };
}
