/**
 * What is left of a job whose record the result store refused: a small failed record holding only
 * what the gateway itself wrote (ids, status, cost, usage, timings), without the caller's data
 * (metadata, answer text) that made the record unstorable, so polling and the webhook still say
 * what became of the job.
 */
import type { Logger } from 'pino';
import { isRecordRefused, type JobRecord, type RecordRefusedError } from '../store/types.ts';

/** The stable code of a job whose record the store refused. */
export const RECORD_REFUSED = 'record_refused';

/** The failed record stored in place of `record` when the store refused it for `reason`, at `now`. */
export function refusedRecord(record: JobRecord, reason: string, now: Date): JobRecord {
  const paid = (record.cost_usd ?? 0) > 0;
  const message =
    `The result store could not hold this job's record (${reason}), so its answer and metadata are not kept` +
    `${paid ? '; what the answer cost is counted in the budget' : ''}. ` +
    'Submit the job again with smaller, less deeply nested metadata and input.';
  return {
    id: record.id,
    client_id: record.client_id,
    status: 'failed',
    feature: record.feature,
    prompt_version: record.prompt_version,
    experiment: record.experiment,
    // Derived by the gateway (coarse, no user text), so it stays: reports group by it.
    ...(record.category ? { category: record.category } : {}),
    provider: record.provider,
    model: record.model,
    result: null,
    usage: record.usage,
    cost_usd: record.cost_usd,
    cache: record.cache,
    degraded: record.degraded,
    served_by: record.served_by ?? null,
    attempts: record.attempts,
    provider_attempts: record.provider_attempts,
    error: { code: RECORD_REFUSED, message },
    latency_ms: record.latency_ms,
    // Kept only as the strings the API accepts: a producer that skipped validation may have put anything here.
    user_id: typeof record.user_id === 'string' ? record.user_id : null,
    callback_url: typeof record.callback_url === 'string' ? record.callback_url : null,
    metadata: null,
    created_at: record.created_at,
    started_at: record.started_at,
    completed_at: now.toISOString(),
  };
}

/**
 * Stores the refused-record failure of `record` in its place and answers it. If the store refuses
 * even that, logs an error and answers it all the same (the job fails either way); a store that is
 * unavailable throws, so the caller tries again later. `log` is the job's own logger (bound to
 * its jobId and requestId, see withJobLog), so the lines name no job themselves.
 */
export async function storeRefusal(
  record: JobRecord,
  refusal: RecordRefusedError,
  save: (record: JobRecord) => Promise<void>,
  log: Logger,
  now: Date,
): Promise<JobRecord> {
  const failed = refusedRecord(record, refusal.reason, now);
  log.error({ code: RECORD_REFUSED, reason: refusal.reason, costUsd: record.cost_usd }, "the store refused a job's record; the job fails");
  try {
    await save(failed);
  } catch (error) {
    if (!isRecordRefused(error)) throw error;
    log.error({ code: RECORD_REFUSED, reason: error.reason }, 'the store refused even the failure record of a job; polling shows the queue state only');
  }
  return failed;
}
