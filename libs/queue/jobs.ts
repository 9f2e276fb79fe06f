import type { JobsOptions } from 'bullmq';
import type { ProviderAttempt, ServedBy } from '../store/types.ts';

/** Name of the BullMQ queue that carries LLM jobs. */
export const LLM_QUEUE = 'llm-jobs';

/**
 * BullMQ prefix for a configured prefix name: wrapped in braces as a Redis Cluster hash tag, so
 * every key of the queue lands in one slot (BullMQ's documented convention).
 */
export function queuePrefix(name: string): string {
  return name.startsWith('{') ? name : `{${name}}`;
}

/** What the API puts on the queue: everything the worker needs, nothing it can look up itself. */
export interface LlmJobData {
  /** Absent for a user's request; `category_answer` for a job that writes a category's generic answer (see libs/pipeline/categoryAnswer.ts). */
  kind?: 'category_answer';
  clientId: string;
  feature: string;
  input: Record<string, unknown>;
  userId: string | null;
  callbackUrl: string | null;
  metadata: Record<string, unknown> | null;
  /** ISO time the API accepted the job. */
  createdAt: string;
  /** Fingerprint of the body when it came with an Idempotency-Key, kept on every record of the job. */
  idempotencyFingerprint?: string;
  /** The submission's X-Request-Id (or the one the API generated), carried on every log line, record, telemetry line and webhook of the job. */
  requestId?: string;
  /** The A/B variant a category job answers for (user requests are assigned one instead). */
  variant?: string;
  /**
   * A provider's answer, written into the job as soon as it arrives, so that a retry after a crash
   * or a later failure reuses it instead of paying the provider again.
   */
  answer?: KeptAnswer;
  /**
   * Micro-dollars earlier runs paid for unusable answers, or were charged for a call aborted in
   * flight; a job something was paid for is never stored as rejected.
   */
  paidMicros?: number;
  /** ISO time by which the client wants its answer (`deadline_s` after acceptance); absent: as soon as possible. */
  deadlineAt?: string;
  /** What budget pacing did to the job: deferred it to the next day, moved it to the batch lane, or downgraded it (libs/pipeline/pacingStep.ts). */
  paced?: 'defer' | 'batch' | 'downgrade';
  /** The job's passage through the batch lane (libs/pipeline/batchLane.ts); absent: it never joined it. */
  batch?: BatchLaneState;
}

/** A job's place in the batch lane, written by the job's own runs only. */
export interface BatchLaneState {
  /** The budget hold reserved at the batch worst case, settled by the lane when the batch ends. */
  holdId: string;
  /** Epoch ms the job joined the lane (its batch price is that day's). */
  enteredMs: number;
  /** The provider and model it waits on (those of its variant when it joined). */
  provider: string;
  model: string;
  /** Epoch ms at which it stops waiting and goes to the realtime lane (its deadline less the margin then configured). */
  fallbackAtMs: number;
  /** `in` while it waits on its batch; `left` once it went to the realtime lane instead. */
  state: 'in' | 'left';
}

/** A provider answer kept with the job (see LlmJobData.answer). */
export interface KeptAnswer {
  /** The budget hold this answer is settled against (`<jobId>:<attempt>`); null when nothing was paid. */
  holdId: string | null;
  /** What the answer cost, in micro-dollars (0 for a cache hit). */
  costMicros: number;
  servedBy: ServedBy;
  cache: 'hit' | 'miss';
  degraded: boolean;
  /** The provider calls made for it (including failed ones). */
  attempts: ProviderAttempt[];
  provider: string;
  model: string;
  variant: string;
  promptVersion: string;
  text: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  finishReason: string;
  providerLatencyMs: number;
  startedAt: string;
  /** The lane that answered. @defaultValue 'realtime' */
  lane?: 'realtime' | 'batch';
}

/** Default BullMQ options for an LLM job: queue-level retries for outages longer than one call's retries. */
export const LLM_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  // The result store is the record of truth; Redis keeps finished jobs an hour, for operators in
  // Bull Board (redacted as the feature says) and for the recovery after a store lost its last
  // commits. Dropping them at once would save each finish about four commands.
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600, count: 10_000 },
};
