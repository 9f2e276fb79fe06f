import type { JobRecord } from '../store/types.ts';

/** The telemetry line of one finished job: flat, stable field names, no prompt or answer text (privacy). */
export interface JobEvent {
  event: 'job_finished';
  job_id: string;
  client_id: string;
  feature: string;
  status: JobRecord['status'];
  experiment: string | null;
  variant: string | null;
  prompt_version: string | null;
  provider: string | null;
  model: string | null;
  served_by: string | null;
  cache: string | null;
  degraded: boolean;
  truncated: boolean;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  attempts: number;
  provider_calls: number;
  error_code: string | null;
  queue_ms: number | null;
  provider_ms: number | null;
  total_ms: number | null;
}

/** Builds the telemetry line of a finished job, for shipping to ELK or CloudWatch. */
export function jobEvent(record: JobRecord): JobEvent {
  return {
    event: 'job_finished',
    job_id: record.id,
    client_id: record.client_id,
    feature: record.feature,
    status: record.status,
    experiment: record.experiment?.id ?? null,
    variant: record.experiment?.variant ?? null,
    prompt_version: record.prompt_version,
    provider: record.provider,
    model: record.model,
    served_by: record.served_by ?? null,
    cache: record.cache,
    degraded: record.degraded,
    truncated: record.truncated ?? false,
    input_tokens: record.usage?.input_tokens ?? 0,
    output_tokens: record.usage?.output_tokens ?? 0,
    cost_usd: record.cost_usd ?? 0,
    attempts: record.attempts,
    provider_calls: record.provider_attempts.length,
    error_code: record.error?.code ?? null,
    queue_ms: record.latency_ms?.queue ?? null,
    provider_ms: record.latency_ms?.provider ?? null,
    total_ms: record.latency_ms?.total ?? null,
  };
}
