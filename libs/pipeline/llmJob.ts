import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { JobRecord, ProviderAttempt } from '../store/types.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { assignVariant } from '../experiments/assign.ts';
import { renderTemplate } from '../prompts/render.ts';
import { costMicros, priceAt } from '../budget/cost.ts';
import { classifyProviderError } from '../providers/classify.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { completedRecord, failedRecord, type JobFacts } from './records.ts';

/** What the LLM job pipeline needs from its process. */
export interface PipelineDeps {
  config: () => GatewayConfig;
  providers: ProviderRegistry;
  /** Persists a finished record; resolves once it is durable. */
  save: (record: JobRecord) => Promise<void>;
  log: Logger;
  now?: () => Date;
}

/** What a finished BullMQ job returns (kept small: the store holds the result). */
export interface LlmJobOutcome {
  status: 'completed' | 'failed';
  costMicros: number;
}

/**
 * One attempt at one job: pick the variant, render the prompt, call the provider, keep the answer
 * with the job before anything else can fail, then store the result.
 */
export async function processLlmJob(job: Job<LlmJobData>, deps: PipelineDeps): Promise<LlmJobOutcome> {
  const now = deps.now ?? (() => new Date());
  const cfg = deps.config();
  const data = job.data;
  const feature = cfg.features[data.feature];
  const experiment = feature && cfg.abTests.experiments[feature.experiment];
  const facts: JobFacts = {
    id: job.id!,
    data,
    attempt: job.attemptsMade + 1,
    processedOn: job.processedOn ?? Date.now(),
    experimentId: feature?.experiment ?? '',
    attempts: [],
  };
  if (!feature || !experiment) {
    return fail(job, deps, facts, { code: 'unknown_feature', message: `Feature "${data.feature}" is no longer configured.` }, true, now);
  }

  let answer = data.answer;
  if (!answer) {
    const variant = assignVariant(experiment, data.userId ?? facts.id);
    const promptVersion = feature.prompts.active;
    const prompt = feature.prompts.versions[promptVersion]!;
    const settings = cfg.providers.providers[variant.provider]!;
    const started = performance.now();
    const startedAt = now().toISOString();
    try {
      const result = await deps.providers.get(variant.provider, settings).complete({
        model: variant.model,
        system: prompt.system,
        user: renderTemplate(prompt.user_template, data.input),
        maxOutputTokens: feature.output.max_output_tokens,
        temperature: feature.output.temperature,
        jobId: facts.id,
        timeoutMs: settings.timeout_ms,
      });
      const latencyMs = Math.round(performance.now() - started);
      facts.attempts.push({ provider: variant.provider, model: variant.model, status: 200, latencyMs });
      answer = {
        provider: variant.provider,
        model: variant.model,
        variant: variant.name,
        promptVersion,
        text: result.text,
        inputTokens: result.inputTokens,
        outputTokens: result.outputTokens,
        cachedInputTokens: result.cachedInputTokens,
        finishReason: result.finishReason,
        providerLatencyMs: latencyMs,
        startedAt,
      } satisfies KeptAnswer;
      // Keep the paid-for answer in the job before anything else can fail.
      await job.updateData({ ...data, answer });
    } catch (err) {
      const cls = classifyProviderError(err);
      const attempt: ProviderAttempt = { provider: variant.provider, model: variant.model, status: cls.status, errorCode: cls.code, latencyMs: Math.round(performance.now() - started) };
      facts.attempts.push(attempt);
      const message = err instanceof Error ? err.message : String(err);
      deps.log.warn({ jobId: facts.id, ...attempt, retryable: cls.retryable }, 'provider call failed');
      return fail(job, deps, facts, { code: cls.code, message }, !cls.retryable, now);
    }
  }

  const model = cfg.providers.providers[answer.provider]?.models[answer.model];
  const micros = model ? costMicros(answer, priceAt(model, new Date(answer.startedAt))) : 0;
  await deps.save(completedRecord(facts, answer, micros, now()));
  return { status: 'completed', costMicros: micros };
}

/**
 * Ends this attempt with an error. The failed record is stored only when no attempt follows
 * (fatal error, or the last one), so that a poll shows "queued" while BullMQ retries.
 */
async function fail(job: Job<LlmJobData>, deps: PipelineDeps, facts: JobFacts, error: { code: string; message: string }, fatal: boolean, now: () => Date): Promise<never> {
  const last = fatal || facts.attempt >= (job.opts.attempts ?? 1);
  if (last) await deps.save(failedRecord(facts, error, now()));
  const Err = fatal ? UnrecoverableError : Error;
  throw Object.assign(new Err(`${error.code}: ${error.message}`), { code: error.code });
}
