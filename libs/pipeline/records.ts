import type { JobRecord, ProviderAttempt } from '../store/types.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { microsToUsd } from '../budget/cost.ts';

/** Facts about the BullMQ job a record is built from. */
export interface JobFacts {
  id: string;
  data: LlmJobData;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Epoch ms the current attempt started. */
  processedOn: number;
  experimentId: string;
  attempts: ProviderAttempt[];
}

function base(facts: JobFacts, now: Date): JobRecord {
  const created = Date.parse(facts.data.createdAt);
  return {
    id: facts.id,
    client_id: facts.data.clientId,
    status: 'completed',
    feature: facts.data.feature,
    prompt_version: null,
    experiment: null,
    provider: null,
    model: null,
    result: null,
    usage: null,
    cost_usd: null,
    cache: null,
    degraded: false,
    attempts: facts.attempt,
    provider_attempts: facts.attempts,
    error: null,
    latency_ms: { queue: Math.max(0, facts.processedOn - created), provider: 0, total: Math.max(0, now.getTime() - created) },
    user_id: facts.data.userId,
    metadata: facts.data.metadata,
    created_at: facts.data.createdAt,
    started_at: new Date(facts.processedOn).toISOString(),
    completed_at: now.toISOString(),
  };
}

/** The stored record of a job a provider answered. */
export function completedRecord(facts: JobFacts, answer: KeptAnswer, costMicros: number, now: Date): JobRecord {
  const record = base(facts, now);
  return {
    ...record,
    prompt_version: answer.promptVersion,
    experiment: { id: facts.experimentId, variant: answer.variant },
    provider: answer.provider,
    model: answer.model,
    result: { text: answer.text },
    usage: { input_tokens: answer.inputTokens, output_tokens: answer.outputTokens },
    cost_usd: microsToUsd(costMicros),
    cache: 'miss',
    latency_ms: { ...record.latency_ms!, provider: answer.providerLatencyMs },
  };
}

/** The stored record of a job that ended without an answer. */
export function failedRecord(facts: JobFacts, error: { code: string; message: string }, now: Date): JobRecord {
  return { ...base(facts, now), status: 'failed', error };
}
