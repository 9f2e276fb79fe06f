import type { JobRecord, JobStatus } from '../store/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { Waiting } from './waiting.ts';

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
    lane: data.batch?.state === 'in' ? 'batch' : 'realtime',
    ...(data.deadlineAt ? { deadline_at: data.deadlineAt } : {}),
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

/** A job as a client sees it. */
export type PublicJob = Omit<JobRecord, 'client_id' | 'intake' | 'idempotency_fingerprint'> & {
  /** Why a queued job is not running yet and until when; null otherwise (libs/jobs/waiting.ts). */
  waiting: Waiting | null;
};

/**
 * What a client sees: the record without internal fields (never the input it submitted), with
 * why it waits (`waiting`, default null: a finished or running job waits for nothing).
 */
export function publicJob(record: JobRecord, waiting: Waiting | null = null): PublicJob {
  const { client_id: _clientId, intake: _intake, idempotency_fingerprint: _print, ...visible } = record;
  return { ...visible, waiting: record.status === 'queued' ? waiting : null };
}
