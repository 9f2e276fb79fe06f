/**
 * Budget pacing in a job's run: once today's allowance is spent, a user's job that has no answer
 * yet is deferred to tomorrow, moved to the batch lane, or run on a cheaper model, as
 * rate_limits.json `budget.pacing.action` says (libs/budget/pacingDecision.ts decides; the gate
 * reads the budget's totals at most once a second). Pacing is a soft limit in front of the hard
 * cap: when the gate cannot read the budget, the job runs, and the cap still holds.
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { PacingGate } from '../budget/pacingGate.ts';
import type { PacingDecision } from '../budget/pacingDecision.ts';
import { deferUntil, spreadOf } from '../budget/pacingDecision.ts';
import { estimatePromptTokens, worstCaseMicros } from '../budget/reservation.ts';
import { chooseLane } from '../batch/lane.ts';
import { allCandidates, candidateWorstCase, chainWithinBudget, chainWorstCase, failoverChain } from './route.ts';
import { isCategoryJob } from './categoryAnswer.ts';
import type { JobPlan } from './obtainAnswer.ts';
import { deadlineOf, variantBatchPrice } from './batchLane.ts';

/** Seconds of deadline a paced job without its own gets when pacing moves it to the batch lane. @defaultValue 3600 */
export const DEFAULT_PACED_BATCH_DEADLINE_S = 3600;

/** What the run does after pacing: as planned, through the batch lane, or within a spend cap (micro-dollars). */
export type PacingOutcome = { kind: 'run' } | { kind: 'batch' } | { kind: 'downgrade'; maxMicros: number };

/** What the pacing step needs. */
export interface PacingStepContext {
  job: Job<LlmJobData>;
  plan: JobPlan;
  cfg: GatewayConfig;
  gate: PacingGate;
  /** Whether a provider has a batch client. */
  hasBatchClient: (provider: string) => boolean;
  now: () => Date;
  log: Logger;
  /** Delays the job until `untilMs` (epoch ms), waiting for tomorrow's allowance; never returns. */
  defer: (untilMs: number) => Promise<never>;
}

/** Whether pacing looks at this run: pacing is on, and this is a user's job with no answer yet, not already in or through the batch lane. */
export function pacingApplies(cfg: GatewayConfig, data: LlmJobData): boolean {
  return cfg.rateLimits.budget.pacing?.enabled === true && !data.answer && data.batch === undefined && !isCategoryJob(data) && data.paced !== 'batch';
}

/** Runs the job's pacing decision (see the module comment); a deferral never returns. */
export async function pacingStep(ctx: PacingStepContext): Promise<PacingOutcome> {
  const { job, plan, cfg, gate, log } = ctx;
  const at = ctx.now();
  const inputTokens = estimatePromptTokens([plan.system, plan.user]);
  const maxOut = plan.feature.output.max_output_tokens;
  const lane = cfg.providers.batch;
  const price = variantBatchPrice(cfg, plan, at, ctx.hasBatchClient);
  const hasBatchPrice = price !== null;
  const deadlineMs = deadlineOf(job.data);
  const defer = (untilMs: number) => markThen(job, 'defer').then(() => ctx.defer(untilMs));
  // A job whose own deadline puts it on the batch lane is judged at the batch price: pacing only
  // defers it, if even that does not fit today's allowance.
  if (chooseLane({ settings: lane, deadlineMs, nowMs: at.getTime(), hasBatchPrice, providerBatches: hasBatchPrice, triedBatch: false }) === 'batch') {
    const batchWorst = worstCaseMicros(inputTokens, maxOut, price!);
    const decision = await decide(gate, log, { id: plan.jobId, worstCaseMicros: batchWorst, cheapestWorstCaseMicros: batchWorst, batchEligible: true, heldBefore: job.data.paced !== undefined });
    if (decision.kind !== 'defer') return { kind: 'run' };
    log.info({ event: 'budget_paced', action: 'defer', until: new Date(decision.untilMs).toISOString() }, "today's budget allowance is spent: the job waits for tomorrow's");
    return defer(decision.untilMs);
  }
  const deadlineS = cfg.rateLimits.budget.pacing?.batch_deadline_s ?? DEFAULT_PACED_BATCH_DEADLINE_S;
  // Only a job that gave no deadline of its own can be given one, long enough for the lane to take it.
  const batchEligible = !job.data.deadlineAt && lane?.enabled === true && hasBatchPrice && deadlineS >= lane.min_deadline_s + LANE_SLACK_S && deadlineS > lane.realtime_margin_s + LANE_SLACK_S;
  const candidates = allCandidates(cfg).map((c) => ({ ...c, worstCaseMicros: candidateWorstCase(c, inputTokens, maxOut, at) }));
  const chain = failoverChain(cfg, plan.experiment, plan.variant);
  const cheapest = Math.min(...candidates.map((c) => c.worstCaseMicros));
  const decision = await decide(gate, log, { id: plan.jobId, worstCaseMicros: chainWorstCase(chain, inputTokens, maxOut, at), cheapestWorstCaseMicros: cheapest, batchEligible, heldBefore: job.data.paced !== undefined });
  switch (decision.kind) {
    case 'none':
      return { kind: 'run' };
    case 'downgrade': {
      // The run reserves its chain trimmed to what is left (its own model when that fits, else the
      // cheapest that do): counted as such, or deferred when nothing fits.
      const within = chainWithinBudget(chain.map((c) => ({ ...c, worstCaseMicros: candidateWorstCase(c, inputTokens, maxOut, at) })), candidates, decision.maxMicros);
      if (!within) return defer(deferUntil(at.getTime(), spreadOf(plan.jobId)));
      gate.admit(Math.max(...within.chain.map((c) => c.worstCaseMicros)) - cheapest);
      await markThen(job, 'downgrade');
      log.info({ event: 'budget_paced', action: 'downgrade', maxMicros: decision.maxMicros }, "today's budget allowance is spent: the job runs on a cheaper model");
      return { kind: 'downgrade', maxMicros: decision.maxMicros };
    }
    case 'batch':
      await job.updateData({ ...job.data, paced: 'batch', deadlineAt: new Date(at.getTime() + deadlineS * 1000).toISOString() });
      log.info({ event: 'budget_paced', action: 'batch', deadlineS }, "today's budget allowance is spent: the job moves to the batch lane");
      return { kind: 'batch' };
    case 'defer':
      log.info({ event: 'budget_paced', action: 'defer', until: new Date(decision.untilMs).toISOString() }, "today's budget allowance is spent: the job waits for tomorrow's");
      return defer(decision.untilMs);
  }
}

/** Seconds a paced job's batch deadline must exceed the lane's thresholds by, so the lane surely takes it. @defaultValue 60 */
const LANE_SLACK_S = 60;

/** The gate's decision, or `none` when it cannot read the budget (pacing is soft; the hard cap still holds). */
async function decide(gate: PacingGate, log: Logger, job: Parameters<PacingGate['decide']>[0]): Promise<PacingDecision> {
  try {
    return await gate.decide(job);
  } catch (err) {
    log.warn({ err }, 'budget pacing could not read the budget; the job runs (the hard cap still applies)');
    return { kind: 'none' };
  }
}

/** Marks in the job what pacing did, so that its demand is counted once however often it runs. */
async function markThen(job: Job<LlmJobData>, paced: 'defer' | 'downgrade'): Promise<void> {
  if (job.data.paced !== paced) await job.updateData({ ...job.data, paced });
}
