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
  unit: 'user_id',
  sector: 'category.sector',
  degree_level: 'category.degree_level',
  experience_band: 'category.experience_band',
  holdout: 'experiment.holdout',
  // Last, so the rows of a file not yet rebuilt (a shorter array) still read every other field.
  lane: 'lane',
} as const satisfies Record<Exclude<keyof ExperimentRow, 'rating' | 'assignment_known'>, string>;

/** Where the unit comes from when the job has no user id: the job id (each adapter applies it in its query). */
export const UNIT_FALLBACK_PATH = 'id';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

const FIELDS = Object.keys(EXPERIMENT_ROW_PATHS) as (keyof typeof EXPERIMENT_ROW_PATHS)[];
const at = Object.fromEntries(FIELDS.map((name, i) => [name, i])) as Record<keyof typeof EXPERIMENT_ROW_PATHS, number>;

/** An ExperimentRow from loosely typed fields; anything missing or mistyped becomes null. */
export function toExperimentRow(raw: Record<string, unknown>): ExperimentRow {
  return experimentRowFromValues(FIELDS.map((name) => raw[name]), raw.rating);
}

/**
 * An ExperimentRow from the values of EXPERIMENT_ROW_PATHS in their order (what SQLite's
 * multi-path json_extract answers) and the rating; anything missing or mistyped becomes null.
 * Read by position, with no object of the fields built first: a report decodes hundreds of
 * thousands of rows.
 */
export function experimentRowFromValues(v: readonly unknown[], rating: unknown): ExperimentRow {
  const cache = v[at.cache];
  const degraded = v[at.degraded];
  const holdout = v[at.holdout];
  return {
    variant: str(v[at.variant]) ?? '',
    status: (str(v[at.status]) ?? 'failed') as JobStatus,
    served_by: str(v[at.served_by]) as ServedBy | null,
    cache: cache === 'hit' || cache === 'miss' ? cache : null,
    degraded: degraded === true || degraded === 1,
    cost_usd: num(v[at.cost_usd]),
    input_tokens: num(v[at.input_tokens]),
    output_tokens: num(v[at.output_tokens]),
    provider_latency_ms: num(v[at.provider_latency_ms]),
    total_latency_ms: num(v[at.total_latency_ms]),
    rating: num(rating),
    queue_latency_ms: num(v[at.queue_latency_ms]),
    created_at: str(v[at.created_at]) ?? '',
    unit: str(v[at.unit]) ?? '',
    sector: str(v[at.sector]) ?? UNKNOWN,
    degree_level: str(v[at.degree_level]) ?? UNKNOWN,
    experience_band: str(v[at.experience_band]) ?? UNKNOWN,
    holdout: holdout === true || holdout === 1,
    // Records written before the batch lane existed have no lane: they were all realtime.
    lane: v[at.lane] === 'batch' ? 'batch' : 'realtime',
    // Every record written since jobs carry their category has the sector as a string.
    assignment_known: typeof v[at.sector] === 'string',
  };
}
