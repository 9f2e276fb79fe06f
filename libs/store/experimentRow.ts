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

/** An ExperimentRow from loosely typed fields; anything missing or mistyped becomes null. */
export function toExperimentRow(raw: Record<string, unknown>): ExperimentRow {
  const cache = raw.cache === 'hit' || raw.cache === 'miss' ? raw.cache : null;
  return {
    variant: str(raw.variant) ?? '',
    status: (str(raw.status) ?? 'failed') as JobStatus,
    provider: str(raw.provider),
    model: str(raw.model),
    served_by: str(raw.served_by) as ServedBy | null,
    cache,
    degraded: raw.degraded === true || raw.degraded === 1,
    cost_usd: num(raw.cost_usd),
    input_tokens: num(raw.input_tokens),
    output_tokens: num(raw.output_tokens),
    provider_latency_ms: num(raw.provider_latency_ms),
    total_latency_ms: num(raw.total_latency_ms),
    rating: num(raw.rating),
    queue_latency_ms: num(raw.queue_latency_ms),
    created_at: str(raw.created_at) ?? '',
    unit: str(raw.user_id) ?? str(raw.job_id) ?? '',
    sector: str(raw.sector) ?? UNKNOWN,
    degree_level: str(raw.degree_level) ?? UNKNOWN,
    experience_band: str(raw.experience_band) ?? UNKNOWN,
    holdout: raw.holdout === true || raw.holdout === 1,
  };
}
