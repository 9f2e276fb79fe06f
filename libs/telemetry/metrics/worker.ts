import { Counter, Histogram, type Registry } from 'prom-client';
import type { JobRecord } from '../../store/types.ts';
import { LLM_SECONDS_BUCKETS } from './buckets.ts';
import { finishedSample, type PipelineMetrics, type ProviderCallSample } from './sink.ts';

/** A webhook delivery's state after one attempt, as the delivery records it. */
export type WebhookStateAfter = 'delivered' | 'pending' | 'dead_letter' | 'failed_permanently';

/** The worker's own metrics: what the pipeline, the breakers, the webhooks and the rate limits report. */
export interface WorkerMetrics extends PipelineMetrics {
  /** A shared breaker changed state (SharedBreaker.onTransition). */
  breakerTransition(provider: string, from: string, to: string): void;
  /** One webhook attempt ended, leaving the delivery in `state`. */
  webhookAttempt(state: WebhookStateAfter): void;
}

/** Registers the worker's pipeline metrics in `registry`; the answer is the sink the pipeline and wiring call. */
export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  const jobs = new Counter({
    name: 'gateway_jobs_finished_total',
    help: 'Jobs this worker finished, by final status and by what served them (served_by as stored; empty when nothing did).',
    labelNames: ['feature', 'status', 'served_by', 'provider', 'model', 'variant', 'lane'] as const,
    registers,
  });
  const jobSeconds = new Histogram({
    name: 'gateway_job_duration_seconds',
    help: 'Seconds of finished jobs by phase: queue (submission to the last run start), provider (the paid call chain, model-served answers only), total (submission to finish).',
    labelNames: ['feature', 'phase'] as const,
    buckets: [...LLM_SECONDS_BUCKETS],
    registers,
  });
  const calls = new Counter({
    name: 'gateway_provider_requests_total',
    help: 'HTTP calls to providers, retries included, by outcome and stable error code ("" on success).',
    labelNames: ['provider', 'model', 'outcome', 'code'] as const,
    registers,
  });
  const callSeconds = new Histogram({
    name: 'gateway_provider_request_duration_seconds',
    help: 'Seconds of one HTTP call to a provider, from sending it to its answer or failure.',
    labelNames: ['provider', 'model', 'outcome'] as const,
    buckets: [...LLM_SECONDS_BUCKETS],
    registers,
  });
  const tokens = new Counter({
    name: 'gateway_tokens_total',
    help: 'Tokens of answers a model wrote for finished jobs (cache hits and fallbacks excluded), by direction and A/B variant.',
    labelNames: ['provider', 'model', 'variant', 'direction'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'gateway_cost_usd_total',
    help: 'US dollars finished jobs cost, as stored in their records, by lane (realtime or batch).',
    labelNames: ['provider', 'model', 'variant', 'lane'] as const,
    registers,
  });
  const transitions = new Counter({
    name: 'gateway_breaker_transitions_total',
    help: 'Shared circuit breaker transitions this worker made or saw first.',
    labelNames: ['provider', 'from', 'to'] as const,
    registers,
  });
  const deliveries = new Counter({
    name: 'gateway_webhook_deliveries_total',
    help: 'Webhook attempts by outcome: delivered, failed_attempt (retried later), dead_letter (no attempt follows).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const deadLetters = new Counter({ name: 'gateway_webhook_dead_letters_total', help: 'Webhook deliveries that ended undelivered (an operator may replay them).', registers });
  const lookups = new Counter({
    name: 'gateway_cache_lookups_total',
    help: 'Response cache lookups by result (hit, miss) and kind (response, shared_flight, fallback).',
    labelNames: ['result', 'kind'] as const,
    registers,
  });
  const waits = new Counter({ name: 'gateway_rate_limit_waits_total', help: "Times a provider's RPM/TPM limit held a call back.", labelNames: ['provider'] as const, registers });
  const waitSeconds = new Counter({
    name: 'gateway_rate_limit_wait_seconds_total',
    help: "Seconds calls were held back by providers' RPM/TPM limits (the wait each was told to take).",
    labelNames: ['provider'] as const,
    registers,
  });
  for (const outcome of ['delivered', 'failed_attempt', 'dead_letter']) deliveries.inc({ outcome }, 0);

  return {
    jobFinished(record: JobRecord) {
      const sample = finishedSample(record);
      const { labels } = sample;
      jobs.inc(labels);
      jobSeconds.observe({ feature: labels.feature, phase: 'queue' }, sample.seconds.queue);
      jobSeconds.observe({ feature: labels.feature, phase: 'total' }, sample.seconds.total);
      if (sample.seconds.provider !== undefined) jobSeconds.observe({ feature: labels.feature, phase: 'provider' }, sample.seconds.provider);
      if (sample.tokens) {
        tokens.inc({ provider: labels.provider, model: labels.model, variant: labels.variant, direction: 'input' }, sample.tokens.input);
        tokens.inc({ provider: labels.provider, model: labels.model, variant: labels.variant, direction: 'output' }, sample.tokens.output);
      }
      if (sample.costUsd) cost.inc({ provider: labels.provider, model: labels.model, variant: labels.variant, lane: labels.lane }, sample.costUsd);
    },
    providerCall(s: ProviderCallSample) {
      calls.inc({ provider: s.provider, model: s.model, outcome: s.outcome, code: s.code });
      callSeconds.observe({ provider: s.provider, model: s.model, outcome: s.outcome }, s.seconds);
    },
    cacheLookup(result, kind) {
      lookups.inc({ result, kind });
    },
    rateLimitWait(provider, waitMs) {
      waits.inc({ provider });
      waitSeconds.inc({ provider }, waitMs / 1000);
    },
    breakerTransition(provider, from, to) {
      transitions.inc({ provider, from, to });
    },
    webhookAttempt(state) {
      const outcome = state === 'delivered' ? 'delivered' : state === 'pending' ? 'failed_attempt' : 'dead_letter';
      deliveries.inc({ outcome });
      if (outcome === 'dead_letter') deadLetters.inc();
    },
  };
}
