/**
 * The fields of a finished job the operator dashboard reads (spend, latency and errors over a
 * recent window), and the one normalisation both adapters apply to what their database answers.
 */
import type { FinishedRow, JobStatus, ServedBy } from './types.ts';

/**
 * The record fields a FinishedRow is read from, as paths into a job record, in the order SQLite's
 * multi-path json_extract answers them.
 */
export const FINISHED_ROW_PATHS = {
  client_id: 'client_id',
  status: 'status',
  provider: 'provider',
  experiment_id: 'experiment.id',
  variant: 'experiment.variant',
  served_by: 'served_by',
  cost_usd: 'cost_usd',
  provider_latency_ms: 'latency_ms.provider',
  total_latency_ms: 'latency_ms.total',
  error_code: 'error.code',
  completed_at: 'completed_at',
  holdout: 'experiment.holdout',
} as const satisfies Record<keyof FinishedRow | 'holdout', string>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A FinishedRow from loosely typed fields; anything missing or mistyped becomes null, and a held-out job has no experiment. */
export function toFinishedRow(raw: Record<string, unknown>): FinishedRow {
  // A held-out unit was served by the control but belongs to no variant: the dashboard must not count it in one.
  const heldOut = raw.holdout === true || raw.holdout === 1;
  return {
    client_id: str(raw.client_id) ?? '',
    status: (str(raw.status) ?? 'failed') as JobStatus,
    provider: str(raw.provider),
    experiment_id: heldOut ? null : str(raw.experiment_id),
    variant: heldOut ? null : str(raw.variant),
    served_by: str(raw.served_by) as ServedBy | null,
    cost_usd: num(raw.cost_usd),
    provider_latency_ms: num(raw.provider_latency_ms),
    total_latency_ms: num(raw.total_latency_ms),
    error_code: str(raw.error_code),
    completed_at: str(raw.completed_at) ?? '',
  };
}
