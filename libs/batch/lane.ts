/**
 * Pure decisions of the batch lane: which lane a job rides, when a job waiting on a batch gives up
 * on it, and what a job does when it wakes up with (or without) its batch item's outcome.
 */
import { createHash } from 'node:crypto';
import type { BatchLaneSettings } from '../config/types.ts';

/** The lane a job is answered through. */
export type Lane = 'realtime' | 'batch';

/** What the lane choice looks at. */
export interface LaneFacts {
  /** provider_settings.json `batch`; undefined: no batch lane. */
  settings: BatchLaneSettings | undefined;
  /** Epoch ms by which the client wants its answer; undefined when the submission gave no `deadline_s`. */
  deadlineMs: number | undefined;
  nowMs: number;
  /** The variant's model has a batch price in force today. */
  hasBatchPrice: boolean;
  /** A batch client exists for the variant's provider. */
  providerBatches: boolean;
  /** The job went through the batch lane already (its item failed, or it gave up waiting): never twice. */
  triedBatch: boolean;
}

/** The lane a job without an answer yet rides: batch when its deadline leaves room, else realtime. */
export function chooseLane(f: LaneFacts): Lane {
  if (!f.settings?.enabled || f.deadlineMs === undefined || f.triedBatch || !f.hasBatchPrice || !f.providerBatches) return 'realtime';
  return f.deadlineMs - f.nowMs >= f.settings.min_deadline_s * 1000 ? 'batch' : 'realtime';
}

/** Epoch ms at which a job still waiting on its batch stops waiting and goes to the realtime lane. */
export function realtimeFallbackAt(deadlineMs: number, settings: Pick<BatchLaneSettings, 'realtime_margin_s'>): number {
  return deadlineMs - settings.realtime_margin_s * 1000;
}

/** A batch item's outcome as the lane keeps it for its job (see batchStore.ts). */
export type ItemOutcome =
  | { kind: 'succeeded'; text: string; model: string; inputTokens: number; outputTokens: number; cachedInputTokens: number; finishReason: string; costMicros: number; latencyMs: number }
  | { kind: 'errored' | 'expired' | 'cancelled'; code: string; message: string; /** The provider answered, and billed, but the answer is unusable. @defaultValue false */ billed?: boolean };

/** What a job in the batch lane does when it runs. */
export type BatchWake =
  | { kind: 'answer'; outcome: Extract<ItemOutcome, { kind: 'succeeded' }> }
  /** Its item failed, or the batch is late: the realtime lane answers while the deadline allows. */
  | { kind: 'realtime'; reason: string }
  /** The deadline passed with no answer: the job fails with `code`. */
  | { kind: 'fail'; code: 'batch_deadline_missed'; message: string }
  /** Woke early (a retry, a restart) with its batch still out: wait again until `untilMs`. */
  | { kind: 'wait'; untilMs: number };

/** What a job whose item is `outcome` (undefined: none yet) does at `nowMs`. */
export function decideBatchWake(outcome: ItemOutcome | undefined, nowMs: number, deadlineMs: number, fallbackAtMs: number): BatchWake {
  if (outcome?.kind === 'succeeded') return { kind: 'answer', outcome };
  const why = outcome ? `its batch item ${outcome.kind} (${outcome.code})` : 'its batch did not answer in time';
  if (outcome === undefined && nowMs < fallbackAtMs) return { kind: 'wait', untilMs: fallbackAtMs };
  if (nowMs >= deadlineMs) return { kind: 'fail', code: 'batch_deadline_missed', message: `The job's deadline passed: ${why}; submit it again, with a longer deadline_s or none.` };
  return { kind: 'realtime', reason: why };
}

/** Whether a group of `count` waiting items whose oldest was queued at `oldestMs` is due to be sent at `nowMs`. */
export function flushDue(count: number, oldestMs: number | undefined, nowMs: number, settings: Pick<BatchLaneSettings, 'max_items' | 'max_age_ms'>): boolean {
  if (count <= 0 || oldestMs === undefined) return false;
  return count >= settings.max_items || nowMs - oldestMs >= settings.max_age_ms;
}

const CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The custom id a job's item carries in a batch: the job id when the batch APIs accept it as one
 * ([A-Za-z0-9_-]{1,64}, as user jobs' UUIDs are), else a digest of it (a category job's id holds
 * its category key). Unique per job id either way.
 */
export function customIdOf(jobId: string): string {
  return CUSTOM_ID.test(jobId) ? jobId : `h_${createHash('sha256').update(jobId).digest('base64url').slice(0, 43)}`;
}
