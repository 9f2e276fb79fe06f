/**
 * A user's job in the batch lane, from its own runs: joining the lane (a hold at the batch worst
 * case, a place in line, then a wait until its realtime fallback time), and waking up with its
 * item's outcome (an answer kept like a provider's), a failure that sends it to the realtime lane,
 * or its deadline gone. Only the job's own runs write its data; the lane's ticker (libs/batch)
 * settles the hold and wakes the job.
 *
 * Crash safety: the hold id is fixed per job (a rerun reserves the same hold, counted once), the
 * job's data says it joined before it is put in line, and putting it in line again is a no-op, so a
 * crash between any two steps neither loses the job nor puts it in two batches.
 */
import { UnrecoverableError, type Job } from 'bullmq';
import type { GatewayConfig, PricePeriod } from '../config/types.ts';
import type { BatchLaneState, KeptAnswer, LlmJobData } from '../queue/jobs.ts';
import { BudgetHold, reserveHold } from '../budget/hold.ts';
import { batchPrice, priceAt } from '../budget/cost.ts';
import { budgetLimits, estimatePromptTokens, worstCaseMicros } from '../budget/reservation.ts';
import { chooseLane, decideBatchWake, realtimeFallbackAt, type ItemOutcome } from '../batch/lane.ts';
import { groupOf, type BatchStore, type BatchTicket } from '../batch/batchStore.ts';
import { generationParams } from '../providers/params.ts';
import { failedRecord, type JobFacts } from './records.ts';
import { BACKGROUND_BUDGET_SHARE, toCached, type AnswerDeps, type JobPlan } from './obtainAnswer.ts';
import { isCategoryJob } from './categoryAnswer.ts';
import { leavesHeadroom } from '../budget/admission.ts';
import type { JobRecord } from '../store/types.ts';

/** The batch lane as the pipeline sees it. */
export interface BatchLaneDeps {
  store: BatchStore;
  /** Whether a provider has a batch client. */
  hasClient: (provider: string) => boolean;
}

/** What a run in (or at the door of) the batch lane needs. */
export interface BatchRunContext {
  job: Job<LlmJobData>;
  plan: JobPlan;
  cfg: GatewayConfig;
  facts: JobFacts;
  deps: AnswerDeps & { batchLane: BatchLaneDeps };
  finish: (record: JobRecord) => Promise<void>;
  /** Moves the job to the delayed set until `untilMs` (epoch ms), waiting for its batch; never returns. */
  delay: (untilMs: number) => Promise<never>;
}

/** Hours a generic category answer may take: it is background work, written ahead of the outages it serves. @defaultValue 24 */
export const CATEGORY_BATCH_DEADLINE_MS = 24 * 3_600_000;

/**
 * The batch price today of the variant's model, or null when it has none or its provider has no
 * batch client: the lane's one test of whether a plan could ride it at all.
 */
export function variantBatchPrice(cfg: GatewayConfig, plan: JobPlan, at: Date, hasClient: (provider: string) => boolean): PricePeriod | null {
  const model = cfg.providers.providers[plan.variant.provider]?.models[plan.variant.model];
  return model && hasClient(plan.variant.provider) ? batchPrice(priceAt(model, at)) : null;
}

/** The job's deadline, epoch ms: the client's, or a day for a category job; undefined for none. */
export function deadlineOf(data: LlmJobData): number | undefined {
  if (data.deadlineAt) return Date.parse(data.deadlineAt);
  return isCategoryJob(data) ? Date.parse(data.createdAt) + CATEGORY_BATCH_DEADLINE_MS : undefined;
}

/**
 * Minutes a batch hold outlives the job's deadline. A batch may still end later (up to its
 * provider's window): the reaper then charges the hold's worst case, and the collect corrects it.
 */
const HOLD_SLACK_MS = 10 * 60_000;

/**
 * Runs the job's batch-lane step: answers its batch answer, or null when the realtime lane answers
 * it (it never joined, its item failed, or its batch is late). Joining or waiting again never
 * returns (the job is delayed); a passed deadline ends the job as failed.
 */
export async function batchLaneStep(ctx: BatchRunContext): Promise<KeptAnswer | null> {
  const lane = ctx.job.data.batch;
  if (lane?.state === 'in') return wake(ctx, lane);
  const price = await mayJoin(ctx);
  return price ? join(ctx, price) : null;
}

/** The batch price the job would join the lane at now, or null when it rides the realtime lane. */
async function mayJoin(ctx: BatchRunContext): Promise<PricePeriod | null> {
  const { job, plan, cfg, deps } = ctx;
  const deadlineMs = deadlineOf(job.data);
  // Most jobs give no deadline: they are done with before any price is looked up.
  if (deadlineMs === undefined || job.data.batch !== undefined) return null;
  const now = deps.now();
  const price = variantBatchPrice(cfg, plan, now, deps.batchLane.hasClient);
  const lane = chooseLane({ settings: cfg.providers.batch, deadlineMs, nowMs: now.getTime(), hasBatchPrice: price !== null, providerBatches: price !== null, triedBatch: false });
  if (lane === 'realtime') return null;
  // A cached answer serves the job at once and for nothing: the realtime lane's lookup finds it.
  if (plan.feature.cache.enabled && (await deps.cache.get(plan.cacheKey).catch(() => null))) return null;
  return price;
}

async function join(ctx: BatchRunContext, price: PricePeriod): Promise<never | null> {
  const { job, plan, cfg, deps } = ctx;
  const now = deps.now();
  const deadlineMs = deadlineOf(job.data)!;
  const worstCase = worstCaseMicros(estimatePromptTokens([plan.system, plan.user]), plan.feature.output.max_output_tokens, price);
  const budget = cfg.rateLimits.budget;
  // Background work leaves the last part of the budget to users' own jobs, in either lane.
  if (isCategoryJob(job.data) && !leavesHeadroom(await deps.budget.snapshot(), budgetLimits(budget), worstCase, BACKGROUND_BUDGET_SHARE)) return null;
  const holdId = `${plan.jobId}:batch:${job.timestamp}`;
  const held = await reserveHold(
    deps.budget,
    { holdId, amountMicros: worstCase, limits: budgetLimits(budget), ttlMs: Math.max(budget.reservation_ttl_ms, deadlineMs - now.getTime() + HOLD_SLACK_MS), thresholds: budget.alert_thresholds },
    { log: deps.log },
  );
  // The budget cannot hold it now: the realtime lane applies the budget's policy (refuse, defer, downgrade).
  if (!held.ok) return null;
  const fallbackAtMs = realtimeFallbackAt(deadlineMs, cfg.providers.batch!);
  const state: BatchLaneState = { holdId, enteredMs: now.getTime(), state: 'in', provider: plan.variant.provider, model: plan.variant.model, fallbackAtMs };
  await job.updateData({ ...job.data, batch: state });
  await deps.batchLane.store.enqueue(ticketOf(ctx, state));
  deps.log.info({ event: 'batch_lane_joined', provider: plan.variant.provider, model: plan.variant.model, worstCaseMicros: worstCase }, 'job joined the batch lane');
  return ctx.delay(fallbackAtMs);
}

async function wake(ctx: BatchRunContext, lane: BatchLaneState): Promise<KeptAnswer | null> {
  const { job, plan, deps } = ctx;
  const now = deps.now();
  const deadlineMs = deadlineOf(job.data) ?? lane.enteredMs;
  const { batchId, outcome } = await deps.batchLane.store.itemOf(plan.jobId, lane.holdId);
  let decision = decideBatchWake(outcome, now.getTime(), deadlineMs, lane.fallbackAtMs);
  // Its variant moved to another model since it joined, before it was sent: the realtime lane answers as the variant says now.
  const moved = plan.variant.provider !== lane.provider || plan.variant.model !== lane.model;
  if (decision.kind === 'wait' && !batchId && moved) decision = { kind: 'realtime', reason: 'its variant changed model while it waited' };
  if (decision.kind === 'answer') return keep(ctx, decision.outcome);
  if (decision.kind === 'wait') {
    // Not in a batch yet: back in line (a no-op unless a crash came between joining and lining up).
    if (!batchId) await deps.batchLane.store.enqueue(ticketOf(ctx, lane));
    return ctx.delay(decision.untilMs);
  }
  await leave(ctx, lane, outcome);
  if (decision.kind === 'fail') {
    // A generic category answer too late for its day is simply not written: no client waits for it.
    if (!isCategoryJob(job.data)) await ctx.finish(failedRecord(ctx.facts, { code: decision.code, message: decision.message }, now));
    throw new UnrecoverableError(decision.code);
  }
  deps.log.info({ event: 'batch_lane_left', reason: decision.reason }, 'job left the batch lane for the realtime lane');
  return null;
}

/** Takes the job out of the lane; a hold whose item never reached a provider is given back. */
async function leave(ctx: BatchRunContext, lane: BatchLaneState, outcome: ItemOutcome | undefined): Promise<void> {
  const { job, plan, deps } = ctx;
  // A failed item's hold was settled by the lane already; a sent one stays for the lane to settle.
  // One never put in a batch (taken out of line now, or never lined up: a crash between joining and
  // lining up) had nothing billed: its hold is given back.
  const withdrawn = !outcome && (await deps.batchLane.store.withdraw(plan.jobId, groupOf(lane.provider, lane.model)));
  // Looked up again: a tick may have put it in a batch since this run first looked.
  const neverLined = !outcome && !withdrawn && !(await deps.batchLane.store.itemOf(plan.jobId, lane.holdId)).batchId;
  if (withdrawn || neverLined) await new BudgetHold(deps.budget, lane.holdId, { log: deps.log }).release();
  await job.updateData({ ...job.data, batch: { ...lane, state: 'left' } });
}

/** Keeps the batch's answer in the job (like a provider's) and offers it to the cache. */
async function keep(ctx: BatchRunContext, o: Extract<ItemOutcome, { kind: 'succeeded' }>): Promise<KeptAnswer> {
  const { job, plan, deps } = ctx;
  const answer: KeptAnswer = {
    // Settled by the lane when the batch ended.
    holdId: null,
    costMicros: o.costMicros,
    servedBy: 'provider',
    cache: 'miss',
    degraded: false,
    attempts: [...ctx.facts.attempts, { provider: plan.variant.provider, model: o.model, status: 200, latencyMs: o.latencyMs }],
    provider: plan.variant.provider,
    model: o.model,
    variant: plan.variant.name,
    promptVersion: plan.promptVersion,
    text: o.text,
    inputTokens: o.inputTokens,
    outputTokens: o.outputTokens,
    cachedInputTokens: o.cachedInputTokens,
    finishReason: o.finishReason,
    providerLatencyMs: o.latencyMs,
    startedAt: deps.now().toISOString(),
    lane: 'batch',
  };
  await job.updateData({ ...job.data, answer });
  const { cache } = plan.feature;
  if (cache.enabled && answer.finishReason !== 'length') {
    await deps.cache.set(plan.cacheKey, toCached(answer), plan.cacheTtlSeconds, Math.max(cache.stale_ttl_seconds, plan.cacheTtlSeconds)).catch((err: unknown) => deps.log.warn({ err }, 'cache write failed'));
  }
  return answer;
}

function ticketOf(ctx: BatchRunContext, lane: BatchLaneState): BatchTicket {
  const { plan } = ctx;
  return {
    jobId: plan.jobId,
    holdId: lane.holdId,
    provider: lane.provider,
    model: lane.model,
    request: { ...generationParams(plan.feature.output), model: plan.variant.model, system: plan.system, user: plan.user },
    enqueuedMs: lane.enteredMs,
  };
}
