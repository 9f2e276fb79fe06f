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
import { batchPrice, priceAt } from '../budget/cost.ts';
import { estimatePromptTokens } from '../budget/reservation.ts';
import { allCandidates, candidateWorstCase, chainWorstCase, failoverChain } from './route.ts';
import { isCategoryJob } from './categoryAnswer.ts';
import type { JobPlan } from './obtainAnswer.ts';

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

/** Whether pacing looks at this run: a user's job with no answer yet, not already in or through the batch lane. */
export function pacingApplies(data: LlmJobData): boolean {
  return !data.answer && data.batch === undefined && !isCategoryJob(data) && data.paced !== 'batch';
}

/** Runs the job's pacing decision (see the module comment); a deferral never returns. */
export async function pacingStep(ctx: PacingStepContext): Promise<PacingOutcome> {
  const { job, plan, cfg, gate, log } = ctx;
  const at = ctx.now();
  const inputTokens = estimatePromptTokens([plan.system, plan.user]);
  const maxOut = plan.feature.output.max_output_tokens;
  const model = cfg.providers.providers[plan.variant.provider]?.models[plan.variant.model];
  const lane = cfg.providers.batch;
  // Only a job that gave no deadline of its own can be given one; one that did rides the lane already when it can.
  const batchEligible = !job.data.deadlineAt && lane?.enabled === true && model !== undefined && batchPrice(priceAt(model, at)) !== null && ctx.hasBatchClient(plan.variant.provider);
  let decision;
  try {
    decision = await gate.decide({
      id: plan.jobId,
      worstCaseMicros: chainWorstCase(failoverChain(cfg, plan.experiment, plan.variant), inputTokens, maxOut, at),
      cheapestWorstCaseMicros: Math.min(...allCandidates(cfg).map((c) => candidateWorstCase(c, inputTokens, maxOut, at))),
      batchEligible,
      heldBefore: job.data.paced !== undefined,
    });
  } catch (err) {
    log.warn({ err }, 'budget pacing could not read the budget; the job runs (the hard cap still applies)');
    return { kind: 'run' };
  }
  switch (decision.kind) {
    case 'none':
      return { kind: 'run' };
    case 'downgrade':
      log.info({ event: 'budget_paced', action: 'downgrade', maxMicros: decision.maxMicros }, "today's budget allowance is spent: the job runs on a cheaper model");
      return { kind: 'downgrade', maxMicros: decision.maxMicros };
    case 'batch': {
      const deadlineS = cfg.rateLimits.budget.pacing?.batch_deadline_s ?? DEFAULT_PACED_BATCH_DEADLINE_S;
      await job.updateData({ ...job.data, paced: 'batch', deadlineAt: new Date(at.getTime() + deadlineS * 1000).toISOString() });
      log.info({ event: 'budget_paced', action: 'batch', deadlineS }, "today's budget allowance is spent: the job moves to the batch lane");
      return { kind: 'batch' };
    }
    case 'defer':
      await job.updateData({ ...job.data, paced: 'defer' });
      log.info({ event: 'budget_paced', action: 'defer', until: new Date(decision.untilMs).toISOString() }, "today's budget allowance is spent: the job waits for tomorrow's");
      return ctx.defer(decision.untilMs);
  }
}
