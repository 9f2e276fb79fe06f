import type { JobRecord } from '../store/types.ts';
import type { WebhookEnded } from '../webhooks/delivery.ts';

/** The telemetry line of one finished job: flat, stable field names, no prompt or answer text (privacy). */
export interface JobEvent {
  /** ISO-8601 UTC time the line was written. */
  ts: string;
  event: 'job_finished';
  job_id: string;
  /** The submission's X-Request-Id (or the generated one); null on jobs queued before request ids existed. */
  request_id: string | null;
  client_id: string;
  feature: string;
  status: JobRecord['status'];
  experiment: string | null;
  variant: string | null;
  prompt_version: string | null;
  provider: string | null;
  model: string | null;
  served_by: string | null;
  /** The lane that answered: realtime or batch. */
  lane: 'realtime' | 'batch';
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

/** Builds the telemetry line of a finished job written at `at` (default now), for shipping to ELK or CloudWatch. */
export function jobEvent(record: JobRecord, at: Date = new Date()): JobEvent {
  return {
    ts: at.toISOString(),
    event: 'job_finished',
    job_id: record.id,
    request_id: record.request_id ?? null,
    client_id: record.client_id,
    feature: record.feature,
    status: record.status,
    // Held-out units read as outside the experiment, as they always have: no variant's events.
    experiment: record.experiment && !record.experiment.holdout ? record.experiment.id : null,
    variant: record.experiment && !record.experiment.holdout ? record.experiment.variant : null,
    prompt_version: record.prompt_version,
    provider: record.provider,
    model: record.model,
    served_by: record.served_by ?? null,
    lane: record.lane ?? 'realtime',
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

/** The telemetry line of a webhook delivery that has ended: its own line, after the job's `job_finished`. */
export interface WebhookFinishedEvent {
  /** ISO-8601 UTC time the line was written. */
  ts: string;
  event: 'webhook_finished';
  job_id: string;
  request_id: string | null;
  webhook_id: string;
  /** delivered | failed_permanently (410 Gone) | dead_letter. */
  outcome: WebhookEnded['status'];
  attempts: number;
  /** The last answer's HTTP status, 0 when none came. */
  http_status: number;
  /** `<code>: <message>` of the last failure, null when delivered. */
  error: string | null;
}

/** Builds the `webhook_finished` line of an ended delivery, written at `at` (default now). */
export function webhookFinishedEvent(ended: WebhookEnded, at: Date = new Date()): WebhookFinishedEvent {
  return {
    ts: at.toISOString(),
    event: 'webhook_finished',
    job_id: ended.jobId,
    request_id: ended.requestId,
    webhook_id: ended.webhookId,
    outcome: ended.status,
    attempts: ended.attempts,
    http_status: ended.httpStatus,
    error: ended.error,
  };
}
