import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Experiment, FeatureConfig, GatewayConfig, PromptVersion, Variant } from '../config/types.ts';
import type { KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import type { ProviderAttempt } from '../store/types.ts';
import type { Category } from '../features/category.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';
import { BudgetHold, reserveHold } from '../budget/hold.ts';
import { EarlyHold, type HoldOutcome } from './earlyHold.ts';
import type { RateLimiter } from '../ratelimit/rateLimiter.ts';
import type { ResponseCache, CachedAnswer, FlightResult } from '../cache/responseCache.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { BreakerGate, SharedBreaker } from '../resilience/sharedBreaker.ts';
import { BudgetRefusedError, RateLimitWaitError, RunAbortedError } from './errors.ts';
import { costMicros, priceAt } from '../budget/cost.ts';
import { budgetLimits, estimatePromptTokens } from '../budget/reservation.ts';
import { allCandidates, candidateWorstCase, chainCallBudgetMs, chainWithinBudget, chainWorstCase, failoverChain, modelServedBy, type Candidate } from './route.ts';
import { callChain } from './callChain.ts';
import { generationParams } from '../providers/params.ts';
import { isCategoryJob } from './categoryAnswer.ts';
import { leavesHeadroom } from '../budget/admission.ts';
import { GatewayError } from '../errors/index.ts';
import { untilAborted } from '../lifecycle/abort.ts';
import type { PipelineMetrics } from '../telemetry/metrics/sink.ts';

/** Share of each budget limit that background work (generic category answers) may reach; users' jobs keep the rest. @defaultValue 0.8 */
export const BACKGROUND_BUDGET_SHARE = 0.8;

/** Longest wait for a provider rate limit done in place, in ms; longer waits go back to the queue. Default 5000. */
export const MAX_INLINE_RATE_WAIT_MS = 5000;

/** Everything decided about a job before any I/O: feature, experiment, variant and prompt. */
export interface JobPlan {
  jobId: string;
  attempt: number;
  feature: FeatureConfig;
  experiment: Experiment;
  variant: Variant;
  promptVersion: string;
  prompt: PromptVersion;
  system: string;
  user: string;
  cacheKey: string;
  /** Where the generic answer of the job's category is kept (see categoryAnswer.ts). */
  categoryKey: string;
  /** The request's category, as deriveCategory finds it. */
  category: Category;
  /** Seconds a computed answer stays fresh in the cache. */
  cacheTtlSeconds: number;
  /** Whether the job is one of the experiment's units (false: paused, out of schedule, held out, or a category job). @defaultValue true */
  inExperiment?: boolean;
  /** Whether the experiment's holdout kept the unit out (it is served the control and recorded as a holdout unit). @defaultValue false */
  holdout?: boolean;
}

/** What obtaining an answer needs from its process. No config getter: a run reads the snapshot it is given. */
export interface AnswerDeps {
  providers: ProviderRegistry;
  breaker: SharedBreaker;
  cache: ResponseCache;
  budget: BudgetStore;
  rateLimiter: RateLimiter;
  log: Logger;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Hears of finished jobs, provider calls, cache lookups and rate-limit waits. @defaultValue none */
  metrics?: PipelineMetrics;
  /**
   * Budget pacing's downgrade for this run: the most its chain's worst case may be, micro-dollars;
   * the run uses the variant's chain trimmed to it, else the cheapest models that fit (a
   * `downgrade`, out of the A/B comparison). @defaultValue none
   */
  paceCapMicros?: number;
}

/**
 * Most milliseconds a job waits on an identical request's computation (its lock renewed while the
 * computing worker lives) before paying by itself: the chain's longest call, plus the budget and
 * cache round trips. A dead worker's lock expires long before this, in DEFAULT_FLIGHT_LOCK_TTL_MS.
 */
export function flightWaitFor(chain: Candidate[]): number {
  return 4000 + chainCallBudgetMs(chain, MAX_INLINE_RATE_WAIT_MS);
}

/**
 * Gets the job an answer: from the cache, from an identical request already in flight, or by
 * paying a provider (reserve budget, call the failover chain, keep the answer in the job).
 * Once `signal` aborts (the worker is shutting down), waits and calls stop with RunAbortedError;
 * the hold is released, or charged when a call was out, and the single-flight lock is freed.
 */
export async function obtainAnswer(job: Job<LlmJobData>, plan: JobPlan, cfg: GatewayConfig, deps: AnswerDeps, attempts: ProviderAttempt[], signal?: AbortSignal): Promise<KeptAnswer> {
  const chain = failoverChain(cfg, plan.experiment, plan.variant);
  const terms = holdTerms(job, plan, cfg, chain, deps);
  const { cache } = plan.feature;
  // A user's job asks the budget beside the cache lookup (earlyHold.ts). Background work checks its
  // headroom first, and a run already stopped reserves nothing.
  // A paced run reserves its downgraded amount, not the variant's worst case the early hold would take.
  const early = cache.enabled && !terms.background && !signal?.aborted && deps.paceCapMicros === undefined ? new EarlyHold(terms.holdId, () => terms.reserve(terms.holdId, terms.worstCaseMicros), deps.budget, deps.log) : undefined;
  let paid: PaidAnswer | undefined;
  const compute = async (): Promise<CachedAnswer> => {
    // Aborted while waiting on another run's flight: reserve nothing, call nobody.
    if (signal?.aborted) throw new RunAbortedError(false, signal.reason);
    paid = await payAndCall(job, plan, cfg, chain, terms, early, deps, attempts, signal);
    return toCached(paid.answer);
  };
  if (!cache.enabled) {
    await compute();
    await paid!.kept;
    return paid!.answer;
  }
  let flight: FlightResult<CachedAnswer>;
  try {
    flight = await cacheFlight(plan, chain, compute, early, deps, signal);
  } finally {
    // Not taken by a payment: a hit, another run's answer, or a failed lookup. Not awaited: an
    // answer from the cache must not wait on the budget's Redis (a hold left open is reaped).
    void early?.giveBack();
  }
  deps.metrics?.cacheLookup(flight.outcome === 'miss' ? 'miss' : 'hit', flight.outcome === 'shared' ? 'shared_flight' : 'response');
  if (flight.outcome === 'miss' && paid) {
    // The cache write ran while the answer was being kept; nothing goes on until it is kept.
    await paid.kept;
    return paid.answer;
  }
  return fromCache(flight.value, 'cache', deps.now(), attempts);
}

/** The response cache's single flight for the job: a cached answer, another run's, or that of `compute`. */
function cacheFlight(
  plan: JobPlan,
  chain: Candidate[],
  compute: () => Promise<CachedAnswer>,
  early: EarlyHold | undefined,
  deps: AnswerDeps,
  signal: AbortSignal | undefined,
): Promise<FlightResult<CachedAnswer>> {
  const { cache } = plan.feature;
  return deps.cache.getOrCompute(plan.cacheKey, compute, {
    ttlSeconds: plan.cacheTtlSeconds,
    staleTtlSeconds: Math.max(cache.stale_ttl_seconds, plan.cacheTtlSeconds),
    waitTimeoutMs: flightWaitFor(chain),
    onRenewFailure: (failure) =>
      deps.log.warn({ err: failure.kind === 'error' ? failure.err : undefined }, failure.kind === 'lost' ? 'cache lock lost to another run' : 'cache lock renewal failed'),
    // Never stored under its category: a user's plan carries their profile. Categories get their
    // own generic answers (categoryAnswer.ts).
    // A truncated answer goes to those waiting for it, but is not kept for later requests.
    keep: (answer) => answer.finishReason !== 'length',
    onStoreError: (err) => deps.log.warn({ err }, 'cache write failed'),
    signal,
    // Waiting on another run: hold no budget meanwhile.
    onFollow: () => void early?.giveBack(),
  });
}

/**
 * A paid answer and the writing of it into the job, started but not awaited by payAndCall, so that
 * it overlaps the single-flight completion (cache write, followers' signal, lock release). `kept`
 * rejects with the write's error once the hold was settled for this payment (keepAnswer).
 *
 * Why this order is safe. After a provider answers, a run does: (1) keep the answer in the job,
 * side by side with the cache completion; (2) once it is kept, settle the hold and save the record,
 * side by side (answerJob); (3) once saved, announce; (4) only then BullMQ completes the job.
 * - A crash before (1) ends: the job is neither kept nor saved, so its rerun (stalled job) runs it
 *   again: it finds the cache entry if that write landed (no new payment) or pays under a new hold.
 *   The dead run's open hold is charged its worst case by the reaper: spend errs high, never low.
 *   The cache entry is an answer whose payment is counted either way; followers served from it paid
 *   nothing, as with any cache hit.
 * - A crash after (1): the rerun finds the answer in the job and calls nobody; settling is idempotent
 *   per hold id (a second settle counts nothing, a reaped charge is corrected) and so is saving (the
 *   first terminal record stands and is announced once).
 * - Settling or saving never starts before (1) has ended: a job stored as completed or settled while
 *   its answer could still be lost would, after a crash, be paid again behind a finished record.
 * - (1) failing without a crash: this payment is settled now and the run fails; its retry serves
 *   the cache entry or pays again under a new hold, each payment counted once.
 */
interface PaidAnswer {
  answer: KeptAnswer;
  kept: Promise<void>;
}

/** How a run reserves: its hold id, worst case and reservation, worked out once from the run's plan and config. */
interface HoldTerms {
  holdId: string;
  /** The worst case of the whole chain, micro-dollars (what a run reserves first). */
  worstCaseMicros: number;
  /** Background work: never downgrades, and leaves the last part of the budget to users' own jobs. */
  background: boolean;
  at: Date;
  inputTokens: number;
  maxOut: number;
  reserve: (holdId: string, amountMicros: number) => Promise<HoldOutcome>;
}

function holdTerms(job: Job<LlmJobData>, plan: JobPlan, cfg: GatewayConfig, fullChain: Candidate[], deps: AnswerDeps): HoldTerms {
  const budget = cfg.rateLimits.budget;
  const at = deps.now();
  const inputTokens = estimatePromptTokens([plan.system, plan.user]);
  const maxOut = plan.feature.output.max_output_tokens;
  // A hold must outlive the longest call it pays for, or the reaper would take a live run for a
  // dead one and charge its worst case until the settle corrects it.
  const ttlMs = Math.max(budget.reservation_ttl_ms, chainCallBudgetMs(fullChain, MAX_INLINE_RATE_WAIT_MS));
  return {
    // One hold per run of the job: a stalled or delayed job runs again with the same attempt number,
    // and its earlier hold may be finished already. attemptsStarted counts every run; the timestamp
    // tells apart two jobs added under one id (a category job renewed after the first ended).
    holdId: `${plan.jobId}:${job.timestamp}:${plan.attempt}:${job.attemptsStarted ?? 0}:${job.stalledCounter ?? 0}`,
    worstCaseMicros: chainWorstCase(fullChain, inputTokens, maxOut, at),
    background: isCategoryJob(job.data),
    at,
    inputTokens,
    maxOut,
    reserve: (holdId, amountMicros) =>
      reserveHold(deps.budget, { holdId, amountMicros, limits: budgetLimits(budget), ttlMs, thresholds: budget.alert_thresholds }, { log: deps.log }),
  };
}

async function payAndCall(
  job: Job<LlmJobData>,
  plan: JobPlan,
  cfg: GatewayConfig,
  fullChain: Candidate[],
  terms: HoldTerms,
  early: EarlyHold | undefined,
  deps: AnswerDeps,
  attempts: ProviderAttempt[],
  signal: AbortSignal | undefined,
): Promise<PaidAnswer> {
  const budget = cfg.rateLimits.budget;
  const { at, inputTokens, maxOut, background } = terms;
  if (background) await ensureBackgroundHeadroom(deps, cfg, terms.worstCaseMicros);
  // A hold given back while this run waited on another is finished: a payment after all needs its own id.
  const holdId = early?.givenBack ? `${terms.holdId}:own` : terms.holdId;
  const reserve = (amountMicros: number) => terms.reserve(holdId, amountMicros);

  let chain = fullChain;
  let downgraded = false;
  let reservedMicros = terms.worstCaseMicros;
  const priced = (c: Candidate) => ({ ...c, worstCaseMicros: candidateWorstCase(c, inputTokens, maxOut, at) });
  if (deps.paceCapMicros !== undefined && !background) {
    // Budget pacing asked for a cheaper run than the variant's: its chain within the cap, else the cheapest models that fit.
    const within = chainWithinBudget(fullChain.map(priced), allCandidates(cfg).map(priced), deps.paceCapMicros);
    if (within) {
      chain = within.chain;
      downgraded = within.downgraded;
      reservedMicros = Math.max(...within.chain.map((c) => c.worstCaseMicros));
    }
  }
  let held = await (early?.take()?.catch((err: unknown) => releaseUnmade(deps, holdId, err)) ?? reserve(reservedMicros));
  if (!held.ok && budget.on_exhausted === 'downgrade' && !background) {
    const within = chainWithinBudget(fullChain.map(priced), allCandidates(cfg).map(priced), held.availableMicros);
    if (within) {
      chain = within.chain;
      downgraded = within.downgraded;
      reservedMicros = Math.max(...within.chain.map((c) => c.worstCaseMicros));
      held = await reserve(reservedMicros);
    }
  }
  if (!held.ok) throw new BudgetRefusedError(held, budget.on_exhausted);
  const { hold } = held;

  // Takes the breaker's permit with the rate limit, in one round trip (the breaker asked first).
  const rateLimit = async (candidate: Candidate, gate: BreakerGate) => {
    const limits = cfg.rateLimits.providers[candidate.provider];
    if (!limits) return;
    const deadline = Date.now() + MAX_INLINE_RATE_WAIT_MS;
    for (;;) {
      const granted = await deps.rateLimiter.acquireProvider(candidate.provider, limits, inputTokens + maxOut, gate);
      if (granted.ok) return granted.permit;
      deps.metrics?.rateLimitWait(candidate.provider, granted.waitMs);
      if (Date.now() + granted.waitMs > deadline) throw new RateLimitWaitError(candidate.provider, granted.waitMs);
      await untilAborted(deps.sleep(granted.waitMs), signal);
    }
  };
  // Unusable answers are billed all the same: count them (their reported usage, else the worst case).
  let incompleteMicros = 0;
  const onPaidIncomplete = (candidate: Candidate, usage: { inputTokens: number; outputTokens: number } | undefined) => {
    const price = priceAt(candidate.settings.models[candidate.model]!, at);
    incompleteMicros += usage ? costMicros(usage, price) : candidateWorstCase(candidate, inputTokens, maxOut, at);
  };

  const startedAt = deps.now().toISOString();
  const started = performance.now();
  let outcome;
  try {
    outcome = await callChain(
      chain,
      { ...generationParams(plan.feature.output), system: plan.system, user: plan.user, jobId: plan.jobId },
      { providers: deps.providers, breaker: deps.breaker, beforeTry: rateLimit, onPaidIncomplete, signal, ...(deps.metrics ? { metrics: deps.metrics } : {}) },
      attempts,
    );
  } catch (error) {
    // Aborted while a call was out: the provider may bill it, so the hold is charged in full (the
    // worst case covers any answer) and the job remembers that it was paid for.
    if (error instanceof RunAbortedError && error.midCall) {
      await finishAfterFailure(hold, () => hold.charge(), deps.log, error);
      await notePaid(job, Math.max(reservedMicros, incompleteMicros), deps.log);
      throw error;
    }
    // Nothing usable came back: return the hold, or settle what the unusable answers cost. The
    // provider's error stays the one thrown, so the cache and degraded fallbacks still run.
    await finishAfterFailure(hold, incompleteMicros > 0 ? () => hold.settle(incompleteMicros) : () => hold.release(), deps.log, error);
    if (incompleteMicros > 0) await notePaid(job, incompleteMicros, deps.log);
    throw error;
  }
  const { candidate, result } = outcome;
  const answer: KeptAnswer = {
    holdId: hold.id,
    costMicros: incompleteMicros + costMicros(result, priceAt(candidate.settings.models[candidate.model]!, new Date(startedAt))),
    servedBy: modelServedBy(plan.variant, candidate, downgraded),
    cache: 'miss',
    degraded: false,
    attempts: [...attempts],
    provider: candidate.provider,
    model: candidate.model,
    variant: plan.variant.name,
    promptVersion: plan.promptVersion,
    text: result.text,
    inputTokens: result.inputTokens,
    outputTokens: result.outputTokens,
    cachedInputTokens: result.cachedInputTokens,
    finishReason: result.finishReason,
    providerLatencyMs: Math.round(performance.now() - started),
    startedAt,
  };
  // Keep the paid-for answer in the job before anything else can fail: a retry settles and stores
  // it without calling again. Only the cache write (which cannot fail the run) overlaps it.
  const kept = keepAnswer(job, answer, hold, deps.log);
  // Awaited by obtainAnswer; this handler only stops a failure from counting as unhandled meanwhile.
  kept.catch(() => {});
  return { answer, kept };
}

/** Writes a paid answer into the job (one round trip); when that fails, settles this payment and rethrows. */
async function keepAnswer(job: Job<LlmJobData>, answer: KeptAnswer, hold: BudgetHold, log: Logger): Promise<void> {
  try {
    await job.updateData({ ...job.data, answer });
  } catch (error) {
    // Not kept: the retry will pay again, so at least count this payment now.
    await finishAfterFailure(hold, () => hold.settle(answer.costMicros), log, error);
    throw error;
  }
}

/** Records in the job what a failed run paid, so that a later run refused by the budget fails rather than rejects it. */
async function notePaid(job: Job<LlmJobData>, micros: number, log: Logger): Promise<void> {
  try {
    await job.updateData({ ...job.data, paidMicros: (job.data.paidMicros ?? 0) + micros });
  } catch (err) {
    log.warn({ err, micros }, 'could not note in the job what its failed run paid');
  }
}

/**
 * Finishes a hold on a run that is failing anyway. The run's own error is what the caller must
 * see: a hold step that fails even after its retries is logged with it, and the hold, still open,
 * is charged by the reaper at its TTL (an overcount, never an undercount).
 */
async function finishAfterFailure(hold: BudgetHold, step: () => Promise<unknown>, log: Logger, runError: unknown): Promise<void> {
  try {
    await step();
  } catch (err) {
    log.error({ err, holdId: hold.id, runError }, 'could not finish the budget hold of a failed run; the reaper will charge it');
  }
}

/**
 * A reservation that failed (a timeout, say) may have been made all the same: no call went out for
 * it, so its id is released before the error goes on. A release that fails leaves it to the reaper.
 */
async function releaseUnmade(deps: AnswerDeps, holdId: string, err: unknown): Promise<never> {
  await new BudgetHold(deps.budget, holdId, { log: deps.log }).release().catch(() => undefined);
  throw err;
}

/** Throws GatewayError `budget_kept_for_users` unless `amountMicros` more keeps spend under BACKGROUND_BUDGET_SHARE of every limit. */
async function ensureBackgroundHeadroom(deps: AnswerDeps, cfg: GatewayConfig, amountMicros: number): Promise<void> {
  const limits = budgetLimits(cfg.rateLimits.budget);
  if (leavesHeadroom(await deps.budget.snapshot(), limits, amountMicros, BACKGROUND_BUDGET_SHARE)) return;
  throw new GatewayError('budget_kept_for_users', `Background work stops at ${BACKGROUND_BUDGET_SHARE * 100}% of the budget, leaving the rest to users' jobs.`, { status: 429 });
}

/** The cache entry of a paid answer. */
export function toCached(answer: KeptAnswer): CachedAnswer {
  return {
    text: answer.text,
    provider: answer.provider,
    model: answer.model,
    variant: answer.variant,
    promptVersion: answer.promptVersion,
    inputTokens: answer.inputTokens,
    outputTokens: answer.outputTokens,
    createdAt: answer.startedAt,
    finishReason: answer.finishReason,
  };
}

/**
 * An answer served from the cache: no provider call, no cost. `attempts` are the failed provider
 * calls that led there, kept so the job shows why a cache served it.
 */
export function fromCache(entry: CachedAnswer, servedBy: 'cache' | 'stale_cache' | 'category_cache', now: Date, attempts: ProviderAttempt[] = []): KeptAnswer {
  return {
    holdId: null,
    costMicros: 0,
    servedBy,
    cache: 'hit',
    degraded: servedBy === 'category_cache',
    attempts: [...attempts],
    provider: entry.provider,
    model: entry.model,
    variant: entry.variant,
    promptVersion: entry.promptVersion,
    text: entry.text,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    cachedInputTokens: 0,
    finishReason: entry.finishReason ?? 'stop',
    providerLatencyMs: 0,
    startedAt: now.toISOString(),
  };
}
