import type { JobRecord, ProviderAttempt } from '../store/types.ts';
import type { Category } from '../features/category.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { microsToUsd } from '../budget/cost.ts';
import { recordFromQueuedJob } from '../jobs/view.ts';

/** Facts about the BullMQ job a record is built from. */
export interface JobFacts {
  id: string;
  data: LlmJobData;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Epoch ms the current attempt started. */
  processedOn: number;
  /** The experiment the job is a unit of (an arm's, or the holdout's); '' for none (a category job, a paused or unscheduled experiment). */
  experimentId: string;
  /** True when the experiment's holdout kept the unit out: the record says so, and the report counts it in no variant. @defaultValue false */
  holdout?: boolean;
  /** The assigned A/B variant, once known. */
  variant?: string;
  /** The request's coarse category, stored so reports can group by it; null for a category job. @defaultValue null */
  category?: Category | null;
  attempts: ProviderAttempt[];
}

/** The record's `experiment`: null outside any experiment, marked `holdout` for a held-out unit. */
function experimentOf(facts: JobFacts, variant: string): JobRecord['experiment'] {
  if (!facts.experimentId) return null;
  return facts.holdout ? { id: facts.experimentId, variant, holdout: true } : { id: facts.experimentId, variant };
}

function base(facts: JobFacts, now: Date): JobRecord {
  const created = Date.parse(facts.data.createdAt);
  return {
    ...recordFromQueuedJob(facts.id, facts.data, 'completed', { attemptsMade: facts.attempt, processedOn: facts.processedOn }),
    ...(facts.category ? { category: { ...facts.category } } : {}),
    provider_attempts: facts.attempts,
    latency_ms: { queue: Math.max(0, facts.processedOn - created), provider: 0, total: Math.max(0, now.getTime() - created) },
    completed_at: now.toISOString(),
  };
}

/** The stored record of a job that was answered (by a provider, the cache, or the degraded fallback). */
export function completedRecord(facts: JobFacts, answer: KeptAnswer, now: Date): JobRecord {
  const record = base(facts, now);
  return {
    ...record,
    provider_attempts: answer.attempts,
    served_by: answer.servedBy,
    lane: answer.lane ?? 'realtime',
    degraded: answer.degraded,
    finish_reason: answer.finishReason,
    truncated: answer.finishReason === 'length',
    prompt_version: answer.promptVersion,
    experiment: experimentOf(facts, answer.variant),
    provider: answer.provider || null,
    model: answer.model || null,
    result: { text: answer.text },
    usage: { input_tokens: answer.inputTokens, output_tokens: answer.outputTokens },
    cost_usd: microsToUsd(answer.costMicros),
    cache: answer.cache,
    latency_ms: { ...record.latency_ms!, provider: answer.providerLatencyMs },
  };
}

/** The stored record of a job that ended without an answer: `failed`, or `rejected` by the budget. */
export function failedRecord(facts: JobFacts, error: { code: string; message: string }, now: Date, status: 'failed' | 'rejected' = 'failed'): JobRecord {
  return { ...base(facts, now), status, error, experiment: experimentOf(facts, facts.variant ?? '') };
}
