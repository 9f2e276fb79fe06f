import type { JobRecord } from '../../store/types.ts';

/** One HTTP call to a provider, as the pipeline's metrics see it. */
export interface ProviderCallSample {
  provider: string;
  model: string;
  outcome: 'success' | 'error';
  /** The error's stable code; '' on success. */
  code: string;
  /** Seconds from sending the request to its answer or failure. */
  seconds: number;
}

/**
 * What the LLM job pipeline reports as it runs. Every method must be cheap and must not throw;
 * NOOP_PIPELINE_METRICS is the default, so tests and other callers need nothing.
 */
export interface PipelineMetrics {
  /** A job's final record was stored (completed, failed or rejected); called once per job. */
  jobFinished(record: JobRecord): void;
  /** One provider call ended, retries included. */
  providerCall(sample: ProviderCallSample): void;
  /** The response cache was asked for an answer. `kind`: response (the job's own key), shared_flight (served by an identical run's answer), fallback (stale or category answer after an outage). */
  cacheLookup(result: 'hit' | 'miss', kind: 'response' | 'shared_flight' | 'fallback'): void;
  /** A provider's RPM/TPM limit held a call back for `waitMs` milliseconds (in place or by sending the job back to the queue). */
  rateLimitWait(provider: string, waitMs: number): void;
}

/** Reports nothing. */
export const NOOP_PIPELINE_METRICS: PipelineMetrics = {
  jobFinished() {},
  providerCall() {},
  cacheLookup() {},
  rateLimitWait() {},
};

// A served_by that means a model wrote this answer for this job (and was paid for it).
const MODEL_SERVED = new Set(['provider', 'failover', 'downgrade']);

/** Labels and figures a finished record contributes to the worker's job metrics; pure, from the stored record alone. */
export interface FinishedSample {
  labels: { feature: string; status: string; served_by: string; provider: string; model: string; variant: string; lane: string };
  /** Seconds by phase; `provider` only when a model answered. */
  seconds: { queue: number; total: number; provider?: number };
  /** Tokens of a model-served answer; absent for cache hits, fallbacks and failures. */
  tokens?: { input: number; output: number };
  /** US dollars the job cost, when it cost anything. */
  costUsd?: number;
}

/** What `record` adds to the job metrics (see FinishedSample). */
export function finishedSample(record: JobRecord): FinishedSample {
  const servedBy = record.served_by ?? '';
  const modelServed = MODEL_SERVED.has(servedBy) && record.cache !== 'hit';
  const latency = record.latency_ms;
  const sample: FinishedSample = {
    labels: {
      feature: record.feature,
      status: record.status,
      served_by: servedBy,
      provider: record.provider ?? '',
      model: record.model ?? '',
      // A held-out unit is served by the control but is no arm of the comparison.
      variant: record.experiment && !record.experiment.holdout ? record.experiment.variant : '',
      lane: record.lane ?? 'realtime',
    },
    seconds: { queue: (latency?.queue ?? 0) / 1000, total: (latency?.total ?? 0) / 1000 },
  };
  if (modelServed && latency) sample.seconds.provider = latency.provider / 1000;
  if (modelServed && record.usage) sample.tokens = { input: record.usage.input_tokens, output: record.usage.output_tokens };
  if (record.cost_usd) sample.costUsd = record.cost_usd;
  return sample;
}
