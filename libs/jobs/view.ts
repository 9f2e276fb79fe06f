import type { JobRecord, JobStatus } from '../store/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';

/** BullMQ state names mapped to the job statuses of the API. */
export function statusFromQueueState(state: string): JobStatus {
  if (state === 'active') return 'active';
  if (state === 'completed') return 'completed';
  if (state === 'failed') return 'failed';
  return 'queued'; // waiting, delayed, prioritized, waiting-children
}

/** The record shown for a job that is still in the queue and has no stored result yet. */
export function recordFromQueuedJob(
  id: string,
  data: LlmJobData,
  state: string,
  info: { attemptsMade: number; processedOn?: number | undefined },
): JobRecord {
  return {
    id,
    ...(data.requestId ? { request_id: data.requestId } : {}),
    client_id: data.clientId,
    status: statusFromQueueState(state),
    feature: data.feature,
    prompt_version: data.answer?.promptVersion ?? null,
    experiment: null,
    provider: null,
    model: null,
    result: null,
    usage: null,
    cost_usd: null,
    cache: null,
    degraded: false,
    attempts: info.attemptsMade,
    provider_attempts: [],
    error: null,
    latency_ms: null,
    user_id: data.userId,
    callback_url: data.callbackUrl,
    metadata: data.metadata,
    created_at: data.createdAt,
    started_at: info.processedOn ? new Date(info.processedOn).toISOString() : null,
    completed_at: null,
    // Kept on the finished record too, so the key is honoured after Redis forgot its claim.
    ...(data.idempotencyFingerprint ? { idempotency_fingerprint: data.idempotencyFingerprint } : {}),
  };
}

/** What a client sees: the record without internal fields (never the input it submitted). */
export function publicJob(record: JobRecord): Omit<JobRecord, 'client_id' | 'intake' | 'idempotency_fingerprint'> {
  const { client_id: _clientId, intake: _intake, idempotency_fingerprint: _print, ...visible } = record;
  return visible;
}
