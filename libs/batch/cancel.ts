/**
 * Cancelling a job that waits in the batch lane (DELETE /v1/jobs/:id): it leaves the lane if its
 * item has not gone to a provider, and its hold is given back once the job is removed; a job whose
 * item is at a provider cannot be cancelled (its answer is coming, and is billed).
 */
import type { Logger } from 'pino';
import type { BudgetStore } from '../budget/budgetStore.ts';
import { BudgetHold } from '../budget/hold.ts';
import type { BatchLaneState } from '../queue/jobs.ts';
import { groupOf, type BatchStore } from './batchStore.ts';

/** What the API needs to cancel a job in the lane. */
export interface LaneCancelDeps {
  store: BatchStore;
  budget: BudgetStore;
  log: Logger;
}

/** Takes job `jobId` out of the lane: 'out' (nothing of it went to a provider), or 'at_provider' (its batch was sent, or is being sent). */
export async function takeOutOfLane(deps: LaneCancelDeps, jobId: string, lane: BatchLaneState): Promise<'out' | 'at_provider'> {
  if (await deps.store.withdraw(jobId, groupOf(lane.provider, lane.model))) return 'out';
  // Not in line and in no batch of its own hold: it never lined up (a crash while joining).
  return (await deps.store.itemOf(jobId, lane.holdId)).batchId ? 'at_provider' : 'out';
}

/** Gives back the hold of a job taken out of the lane and removed. */
export async function releaseLaneHold(deps: LaneCancelDeps, lane: BatchLaneState): Promise<void> {
  await new BudgetHold(deps.budget, lane.holdId, { log: deps.log }).release();
}
