import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import { isRecordRefused, type JobRecord, type SaveOutcome } from '../store/types.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { assign } from '../experiments/assign.ts';
import { promptFor } from '../prompts/select.ts';
import { renderTemplate } from '../prompts/render.ts';
import { deriveCategory } from '../features/category.ts';
import { cacheKey, cacheScope, categoryKey } from '../cache/key.ts';
import { categoryJobFor, isCategoryJob, planCategoryJob, type CategoryAnswers } from './categoryAnswer.ts';
import { completedRecord, failedRecord, type JobFacts } from './records.ts';
import { RECORD_REFUSED, storeRefusal } from './refusedRecord.ts';
import { BudgetRefusedError, ProviderRejectedError, ProvidersUnavailableError, RateLimitWaitError } from './errors.ts';
import { fromCache, obtainAnswer, type AnswerDeps, type JobPlan } from './obtainAnswer.ts';
import { BudgetHold } from '../budget/hold.ts';
import { decideNoAnswer, type NoAnswerCause } from './noAnswer.ts';
import type { WaitingReason } from '../jobs/waiting.ts';
import { batchLaneStep, type BatchLaneDeps } from './batchLane.ts';
import { pacingApplies, pacingStep } from './pacingStep.ts';
import type { PacingGate } from '../budget/pacingGate.ts';

/** What the LLM job pipeline needs from its process. */
export interface PipelineDeps extends Omit<AnswerDeps, 'now' | 'sleep'> {
  /** The current config; read once at the start of each run (its snapshot), so a reload mid-run never mixes two configs. */
  config: () => GatewayConfig;
  /** Persists a finished record; resolves once it is durable, `kept_earlier` when the store kept the job's earlier terminal record instead (JobStore.save). */
  save: (record: JobRecord) => Promise<SaveOutcome | void>;
  /** Runs after a finished job's record is stored (webhook, telemetry); must not throw for delivery problems. */
  onFinished?: (record: JobRecord, data: LlmJobData) => Promise<void>;
  log: Logger;
  /** Enqueues the jobs that write categories' generic answers; without it none are written. */
  categoryAnswers?: CategoryAnswers;
  /** The batch lane; without it every job rides the realtime lane. @defaultValue undefined */
  batchLane?: BatchLaneDeps;
  /** Budget pacing's gate; without it nothing is paced. @defaultValue undefined */
  pacing?: PacingGate;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Records why a job is about to be delayed and until when (epoch ms), for its public status;
   * `budgetDeferred` marks a wait that a budget change cuts short (libs/jobs/waiting.ts
   * recordWaiting). Without it, delayed jobs read as waiting for a backoff.
   */
  recordWaiting?: (jobId: string, waiting: { reason: WaitingReason; untilMs: number; budgetDeferred: boolean }) => Promise<void>;
}

export { BUDGET_RECHECK_MS, MAX_RETRY_AFTER_DELAYS } from './noAnswer.ts';

/** Milliseconds before an answered job whose store or settle failed tries again. */
export const AFTER_ANSWER_RETRY_MS = 5000;

/** Milliseconds (plus up to as much jitter) before a category job waiting for this process's background slot looks again. */
export const CATEGORY_RETRY_MS = 5000;


/** What a finished BullMQ job returns (kept small: the store holds the result). */
export interface LlmJobOutcome {
  status: 'completed' | 'rejected';
  costMicros: number;
}

/** Resolves feature, experiment, category, variant and prompt: pure, from config and job data. */
export function planJob(cfg: GatewayConfig, jobId: string, attempt: number, data: LlmJobData): JobPlan | null {
  // Own keys only: a name like `constructor` must not find Object.prototype's members.
  const feature = Object.hasOwn(cfg.features, data.feature) ? cfg.features[data.feature] : undefined;
  const experiment = feature && Object.hasOwn(cfg.abTests.experiments, feature.experiment) ? cfg.abTests.experiments[feature.experiment] : undefined;
  if (!feature || !experiment) return null;
  const scope = cacheScope(data.clientId, feature.cache.scope);
  if (isCategoryJob(data)) return planCategoryJob(feature, experiment, scope, jobId, attempt, data);
  const category = deriveCategory(data.input);
  // Assigned as of submission, so a retry after the experiment's end stays in its arm.
  const { variant, inExperiment, reason } = assign(experiment, data.userId ?? jobId, { sector: category.sector, degree_level: category.degree_level, experience_band: category.experience_band }, new Date(data.createdAt));
  const { version: promptVersion, prompt } = promptFor(feature, variant);
  const keyParts = { scope, feature: feature.name, promptVersion, variant: variant.name };
  return {
    jobId,
    attempt,
    feature,
    experiment,
    variant,
    promptVersion,
    prompt,
    system: prompt.system,
    user: renderTemplate(prompt.user_template, data.input),
    cacheKey: cacheKey({ ...keyParts, input: data.input, keyFields: feature.cache.key_fields }),
    // Generic answers come from the category prompt, keyed (as the category job writes them) by the active version.
    categoryKey: categoryKey({ ...keyParts, promptVersion: feature.prompts.active }, category),
    category,
    cacheTtlSeconds: feature.cache.ttl_seconds,
    inExperiment,
    holdout: reason === 'holdout',
  };
}

/**
 * Stores a finished record and announces it. A record the store refuses is replaced by its
 * `record_refused` failure, announced, and the job ended (UnrecoverableError); when `paid` (the
 * settling of a paid answer) is given, that waits for it, so the failure is never announced uncounted.
 */
type Finish = (record: JobRecord, paid?: Promise<void>) => Promise<void>;

/** One run's config snapshot, its plan, the facts a record is built from, and how a finished record is stored and announced. */
function jobContext(job: Job<LlmJobData>, deps: PipelineDeps): { cfg: GatewayConfig; plan: JobPlan | null; facts: JobFacts; finish: Finish } {
  // The only config read of the run: everything below (plan, chain, budget, rate limits) uses this
  // snapshot, so a reload while the job runs applies from its next run on, never half-way.
  const cfg = deps.config();
  const attempt = job.attemptsMade + 1;
  const plan = planJob(cfg, job.id!, attempt, job.data);
  const facts: JobFacts = {
    id: job.id!,
    data: job.data,
    attempt,
    processedOn: job.processedOn ?? Date.now(),
    // A category job serves no experiment arm, nor does a request outside the experiment (paused,
    // out of schedule): both stay out of the A/B report. A held-out unit is recorded as one, so the
    // report can check the holdout's share, but never counted in a variant.
    experimentId: plan && !isCategoryJob(job.data) && (plan.inExperiment !== false || plan.holdout) ? plan.feature.experiment : '',
    holdout: plan?.holdout === true,
    variant: plan?.variant.name,
    category: plan && !isCategoryJob(job.data) ? plan.category : null,
    attempts: [],
  };
  const finish: Finish = async (record, paid) => {
    let outcome: SaveOutcome | void;
    try {
      outcome = await deps.save(record);
    } catch (error) {
      if (!isRecordRefused(error)) throw error;
      await paid;
      const failed = await storeRefusal(record, error, (r) => deps.save(r).then(() => undefined), deps.log, deps.now?.() ?? new Date());
      deps.metrics?.jobFinished(failed);
      await deps.onFinished?.(failed, job.data);
      throw new UnrecoverableError(`${RECORD_REFUSED}: ${error.reason}`);
    }
    // A duplicate run (a stalled one still alive): the job's first outcome stands and was announced.
    if (outcome === 'kept_earlier') {
      deps.log.info({ status: record.status }, 'job already finished: its first record stands, this run is not announced');
      return;
    }
    deps.metrics?.jobFinished(record);
    await deps.onFinished?.(record, job.data);
  };
  return { cfg, plan, facts, finish };
}

/** The deps of one job's run: its logger binds the job id and request id, so every line of the run carries them. */
export function withJobLog(job: Job<LlmJobData>, deps: PipelineDeps): PipelineDeps {
  return { ...deps, log: deps.log.child({ jobId: job.id, requestId: job.data.requestId ?? null }) };
}

/** BullMQ's reason for a job it failed because its worker stopped while running it, too many times. */
export const STALLED_OUT_REASON = 'job stalled more than allowable limit';

/**
 * Ends a job that BullMQ failed for stalling too often: the pipeline never saw that failure. A
 * kept answer is settled and stored as completed (it was paid for); otherwise the failure is
 * stored and announced, so the client hears back either way. Idempotent: every worker may run it.
 */
export async function finishStalledOut(job: Job<LlmJobData>, processDeps: PipelineDeps): Promise<void> {
  const deps = withJobLog(job, processDeps);
  const now = deps.now ?? (() => new Date());
  const { facts, finish } = jobContext(job, deps);
  const answer = job.data.answer;
  try {
    if (answer) {
      const settling = settle(answer, deps);
      await Promise.all([settling, finish(completedRecord(facts, answer, now()), settling)]);
      return;
    }
    await finish(failedRecord(facts, { code: 'worker_lost', message: 'The workers running this job stopped too many times; submit it again.' }, now()));
  } catch (error) {
    // BullMQ failed the job already: storing and announcing its refused-record failure was all that was left.
    if (error instanceof UnrecoverableError) return;
    throw error;
  }
}

/**
 * One attempt at one job: plan it, get an answer (cache, shared flight, or a paid provider call
 * through the failover chain), settle the budget, store the result. Outages fall back to a cached
 * answer, then, on the last attempt, to the feature's degraded answer. When `signal` (BullMQ's job
 * signal) aborts before an answer came, the job goes back to the queue at once, using no attempt;
 * an answer already kept is settled and stored as usual.
 */
export async function processLlmJob(job: Job<LlmJobData>, token: string | undefined, processDeps: PipelineDeps, signal?: AbortSignal): Promise<LlmJobOutcome> {
  const deps = withJobLog(job, processDeps);
  const now = deps.now ?? (() => new Date());
  const { cfg, plan, facts, finish } = jobContext(job, deps);
  if (!plan) {
    await finish(failedRecord(facts, { code: 'unknown_feature', message: `Feature "${job.data.feature}" is no longer configured.` }, now()));
    throw new UnrecoverableError('unknown_feature');
  }

  if (!isCategoryJob(job.data)) return answerJob(job, token, cfg, plan, facts, finish, deps, false, signal);
  // Background work takes one worker slot at most: users' jobs keep the others. An answer already
  // paid for is finished at once, so its hold is settled before anything can reap it; so is a job
  // back from the batch lane (its answer is paid for, or it goes on under the slot rule next run).
  const slot = deps.categoryAnswers?.tryBegin() ?? false;
  if (!slot && !job.data.answer && job.data.batch?.state !== 'in') return delayUntil(job, token, Date.now() + CATEGORY_RETRY_MS * (1 + Math.random()), deps, 'another category answer is being written');
  try {
    return await answerJob(job, token, cfg, plan, facts, finish, deps, true, signal, slot);
  } finally {
    if (slot) deps.categoryAnswers!.end();
  }
}

async function answerJob(
  job: Job<LlmJobData>,
  token: string | undefined,
  cfg: GatewayConfig,
  plan: JobPlan,
  facts: JobFacts,
  finish: Finish,
  deps: PipelineDeps,
  forCategory: boolean,
  signal: AbortSignal | undefined,
  /** False for a category job back from the batch lane without a background slot: it may not call a provider in this run. */
  mayCallProviders = true,
): Promise<LlmJobOutcome> {
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = facts.attempts;
  let answer: KeptAnswer;
  // Once today's budget allowance is spent, pacing defers the job, moves it to the batch lane, or
  // caps its spend; then a job with a deadline (a category job's is a day) may ride the batch lane,
  // and its answer comes back here when its batch ended.
  let paceCapMicros: number | undefined;
  let batched: KeptAnswer | null = null;
  try {
    if (deps.pacing && pacingApplies(cfg, job.data)) {
      const paced = await pacingStep({
        job,
        plan,
        cfg,
        gate: deps.pacing,
        hasBatchClient: (provider) => deps.batchLane?.hasClient(provider) ?? false,
        now,
        log: deps.log,
        defer: (untilMs) => delayUntil(job, token, untilMs, deps, "today's budget allowance is spent", { reason: 'pacing', budgetDeferred: false }),
      });
      if (paced.kind === 'downgrade') paceCapMicros = paced.maxMicros;
    }
    if (!job.data.answer && deps.batchLane) {
      batched = await batchLaneStep({
        job,
        plan,
        cfg,
        facts,
        deps: { ...deps, now, sleep, batchLane: deps.batchLane },
        finish,
        delay: (untilMs) => delayUntil(job, token, untilMs, deps, 'waiting for its batch', { reason: 'batch', budgetDeferred: false }),
      });
    }
  } catch (error) {
    if (error instanceof DelayedError || error instanceof UnrecoverableError || error instanceof WaitingError) throw error;
    // Redis or the budget did not answer: every step of pacing and of the lane is safe to redo, so
    // wait and run again without using up an attempt (the job holds its place in the lane meanwhile).
    deps.log.warn({ err: error }, 'the pacing or batch lane step failed; trying again shortly');
    return delayUntil(job, token, Date.now() + AFTER_ANSWER_RETRY_MS, deps, 'pacing or batch lane unavailable', { reason: 'backoff', budgetDeferred: false });
  }
  if (job.data.answer) {
    answer = job.data.answer;
  } else if (batched) {
    answer = batched;
  } else if (!mayCallProviders) {
    // Out of the batch lane with no answer: its realtime call waits for a background slot.
    return delayUntil(job, token, Date.now() + CATEGORY_RETRY_MS * (1 + Math.random()), deps, 'another category answer is being written');
  } else {
    try {
      answer = await obtainAnswer(job, plan, cfg, { ...deps, now, sleep, ...(paceCapMicros === undefined ? {} : { paceCapMicros }) }, attempts, signal);
    } catch (error) {
      // A category's generic answer is a nicety: with no provider or budget now, the next paid answer asks again.
      if (forCategory && !signal?.aborted) return skipCategoryAnswer(error, facts, deps.log);
      const fallback = await handleNoAnswer(noAnswerCause(error, signal), error, job, token, plan, facts, deps, now, finish);
      if (fallback === 'rejected') return { status: 'rejected', costMicros: 0 };
      answer = fallback;
    }
  }
  // Another job already wrote this category's generic answer: nothing was paid, nothing to record.
  // (A batch answer was paid, and settled by the lane: it is recorded.)
  if (forCategory && !answer.holdId && answer.lane !== 'batch') return { status: 'completed', costMicros: 0 };
  // Only an answer of the variant's own chain at full price asks: a downgrade means the budget is tight.
  if (!forCategory && (answer.servedBy === 'provider' || answer.servedBy === 'failover')) requestCategoryAnswer(plan, job.data, deps);
  // The answer is kept in the job by now (obtainAnswer awaited that, or a run before this one did).
  // Settling and storing are independent and both idempotent (a retry after a crash settles once
  // and overwrites the same record), so they run side by side; see PaidAnswer (obtainAnswer.ts)
  // for why no crash between these steps loses the job or counts a payment twice.
  try {
    const settling = settle(answer, deps);
    await Promise.all([settling, finish(completedRecord(facts, answer, now()), settling)]);
  } catch (error) {
    // The store refused the record: the job failed with its cost settled, and retrying cannot help.
    if (error instanceof UnrecoverableError) throw error;
    // The answer is paid for and kept in the job: never let the queue give up on it. Wait and try
    // again, without using up an attempt, until the store and the budget answer.
    deps.log.error({ err: error }, 'could not settle or store an answered job; trying again shortly');
    return delayUntil(job, token, Date.now() + AFTER_ANSWER_RETRY_MS, deps, 'store or budget unavailable', { reason: 'backoff', budgetDeferred: false });
  }
  return { status: 'completed', costMicros: answer.costMicros };
}

/** Asks (in the background) for the generic answer of the job's category, which outages may serve to others of it. */
function requestCategoryAnswer(plan: JobPlan, data: LlmJobData, deps: PipelineDeps): void {
  const request = deps.categoryAnswers && categoryJobFor(plan, data, Date.now());
  if (!request) return;
  deps.categoryAnswers!.request(request).catch((err: unknown) => deps.log.warn({ err }, 'could not ask for a generic category answer'));
}

function skipCategoryAnswer(error: unknown, facts: JobFacts, log: Logger): LlmJobOutcome {
  const code = (error as { code?: unknown } | null)?.code;
  log.info({ code: typeof code === 'string' ? code : 'internal_error' }, 'no generic category answer written this time');
  return { status: 'rejected', costMicros: 0 };
}

async function settle(answer: KeptAnswer, deps: PipelineDeps): Promise<void> {
  if (!answer.holdId) return;
  // Rebuilt from the id kept with the answer: the run that reserved it may be long gone.
  const settled = await new BudgetHold(deps.budget, answer.holdId, { log: deps.log }).settle(answer.costMicros);
  // The settle script appended each to the budget event stream already; the log line is for humans.
  for (const crossed of settled.crossed) deps.log.warn({ event: 'budget_threshold_crossed', ...crossed }, 'budget threshold crossed');
}

/** The cause of a failed run as the no-answer decision reads it (noAnswer.ts). */
function noAnswerCause(error: unknown, signal: AbortSignal | undefined): NoAnswerCause {
  // Whatever the error says (an aborted call, a wait cut short), the worker stopped this run.
  if (signal?.aborted) return { kind: 'aborted' };
  if (error instanceof BudgetRefusedError) return { kind: 'budget_refused', exhausted: error.refused.exhausted, policy: error.policy, retryAtMs: error.refused.retryAtMs };
  if (error instanceof RateLimitWaitError) return { kind: 'rate_limit_wait', waitMs: error.waitMs };
  if (error instanceof ProviderRejectedError) return { kind: 'provider_rejected', code: error.code };
  if (error instanceof ProvidersUnavailableError) return { kind: 'providers_unavailable', retryAfterMs: error.retryAfterMs };
  return { kind: 'other', code: (error as { code?: string } | null)?.code ?? 'internal_error' };
}

/** Carries out decideNoAnswer: a rejection, a delay, a fallback answer, a failure, or a retry. */
async function handleNoAnswer(
  cause: NoAnswerCause,
  error: unknown,
  job: Job<LlmJobData>,
  token: string | undefined,
  plan: JobPlan,
  facts: JobFacts,
  deps: PipelineDeps,
  now: () => Date,
  finish: (record: JobRecord) => Promise<void>,
): Promise<KeptAnswer | 'rejected'> {
  const cached = cause.kind === 'providers_unavailable' ? await deps.cache.getFirst([plan.cacheKey, plan.categoryKey], { allowStale: true }).catch(() => null) : null;
  if (cause.kind === 'providers_unavailable') deps.metrics?.cacheLookup(cached ? 'hit' : 'miss', 'fallback');
  const decision = decideNoAnswer({
    cause,
    lastAttempt: facts.attempt >= (job.opts.attempts ?? 1),
    runsStarted: job.attemptsStarted ?? 0,
    // A run that died mid-flight left a hold charged as paid; unusable answers were settled.
    paidBefore: (job.stalledCounter ?? 0) > 0 || (job.data.paidMicros ?? 0) > 0,
    cached: cached ? (cached.key === plan.cacheKey ? 'stale_cache' : 'category_cache') : null,
    nowMs: Date.now(),
    jitter: Math.random(),
  });
  const message = error instanceof Error ? error.message : String(error);
  switch (decision.kind) {
    case 'delay':
      return delayUntil(job, token, decision.until, deps, decision.reason, { reason: decision.waiting, budgetDeferred: decision.budgetDeferred === true });
    case 'reject':
      await finish(failedRecord(facts, { code: decision.code, message }, now(), 'rejected'));
      return 'rejected';
    case 'cached':
      return fromCache(cached!.entry, decision.from, now(), facts.attempts);
    case 'degraded':
      return degradedAnswer(plan, facts, now());
    case 'fail':
      await finish(failedRecord(facts, { code: decision.code, message }, now()));
      throw new UnrecoverableError(`${decision.code}: ${message}`);
    case 'retry':
      if (cause.kind === 'providers_unavailable') deps.log.warn({ attempt: facts.attempt }, 'no provider could answer; the queue retries the job');
      throw error;
    case 'requeue':
      return backToQueue(job, token, deps.log, decision.reason);
  }
}

/**
 * Puts an active job back at the front of the queue, using no attempt (BullMQ's manual-retry
 * pattern: moveToWait, then WaitingError so the worker neither completes nor fails it).
 */
async function backToQueue(job: Job<LlmJobData>, token: string | undefined, log: Logger, reason: string): Promise<never> {
  try {
    await job.moveToWait(token);
    log.info({ reason }, 'job back in the queue');
  } catch (err) {
    // Still ours and locked: once the lock expires, the job runs again as a stalled one.
    log.error({ err, reason }, 'could not put the job back in the queue; it runs again once its lock expires');
  }
  throw new WaitingError();
}

async function delayUntil(
  job: Job<LlmJobData>,
  token: string | undefined,
  atMs: number,
  deps: PipelineDeps,
  reason: string,
  waiting?: { reason: WaitingReason; budgetDeferred: boolean },
): Promise<never> {
  deps.log.info({ until: new Date(atMs).toISOString(), reason }, 'job delayed');
  // Recorded first, so the job is never delayed without its reason; a job whose record failed
  // still waits, it merely reads as a backoff.
  if (waiting && deps.recordWaiting && job.id) {
    await deps.recordWaiting(job.id, { ...waiting, untilMs: atMs }).catch((err: unknown) => deps.log.warn({ err }, 'could not record why the job waits'));
  }
  await job.moveToDelayed(atMs, token);
  throw new DelayedError();
}

function degradedAnswer(plan: JobPlan, facts: JobFacts, now: Date): KeptAnswer {
  return {
    holdId: null,
    costMicros: 0,
    servedBy: 'degraded',
    cache: 'miss',
    degraded: true,
    attempts: facts.attempts,
    provider: '',
    model: '',
    variant: plan.variant.name,
    promptVersion: plan.promptVersion,
    text: plan.feature.degraded_fallback.text,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    finishReason: 'stop',
    providerLatencyMs: 0,
    startedAt: now.toISOString(),
  };
}
