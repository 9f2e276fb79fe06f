/**
 * The durable intake record: the `queued` record the API writes to the result store before it
 * answers 202, holding what is needed to queue the job again if Redis loses it, and the way back
 * from such a record to the job's queue data.
 */
import type { LlmJobData } from '../queue/jobs.ts';
import type { JobRecord } from '../store/types.ts';
import { recordFromQueuedJob } from './view.ts';

/** The `queued` record of a job just accepted, with its input (JobRecord.intake). */
export function intakeRecord(id: string, data: LlmJobData): JobRecord {
  return { ...recordFromQueuedJob(id, data, 'waiting', { attemptsMade: 0 }), intake: { input: data.input } };
}

/**
 * The queue data of a job from its intake record, or null for a record that carries no intake
 * facts (written by an older gateway, or not by the API), which cannot be queued again.
 */
export function jobDataFromRecord(record: JobRecord): LlmJobData | null {
  if (!record.intake) return null;
  return {
    clientId: record.client_id,
    feature: record.feature,
    input: record.intake.input,
    userId: record.user_id,
    callbackUrl: record.callback_url ?? null,
    metadata: record.metadata,
    createdAt: record.created_at,
    ...(record.idempotency_fingerprint ? { idempotencyFingerprint: record.idempotency_fingerprint } : {}),
    ...(record.request_id ? { requestId: record.request_id } : {}),
    ...(record.deadline_at ? { deadlineAt: record.deadline_at } : {}),
  };
}
