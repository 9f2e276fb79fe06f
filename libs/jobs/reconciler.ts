/**
 * The reconciler's decisions, free of Redis and the store: what to do with one unfinished store
 * record once Redis lost its data (recovery.ts carries them out).
 */
import type { LlmJobData } from '../queue/jobs.ts';
import { isTerminalStatus, type JobRecord } from '../store/types.ts';
import { jobDataFromRecord } from './intakeRecord.ts';

/** What becomes of one unfinished store record. */
export type RecordAction =
  | { kind: 'requeue'; id: string; data: LlmJobData }
  /**
   * `in_queue`: Redis still knows the job. `finished`: it ended meanwhile. `gone`: its record was
   * removed (a submission answered 503). `no_intake`: the record cannot be queued again (written
   * by a gateway that kept no intake facts).
   */
  | { kind: 'skip'; id: string; reason: 'in_queue' | 'finished' | 'gone' | 'no_intake' };

/**
 * Decides about `record`, an unfinished record of the store: `inQueue` says whether Redis knows
 * the job; `again` is the store's record read after that answer (null when removed), so that a
 * job that finished between the two reads is not run again.
 */
export function decideRecord(record: JobRecord, inQueue: boolean, again: JobRecord | null): RecordAction {
  const id = record.id;
  if (inQueue) return { kind: 'skip', id, reason: 'in_queue' };
  if (!again) return { kind: 'skip', id, reason: 'gone' };
  if (isTerminalStatus(again.status)) return { kind: 'skip', id, reason: 'finished' };
  const data = jobDataFromRecord(again);
  if (!data) return { kind: 'skip', id, reason: 'no_intake' };
  return { kind: 'requeue', id, data };
}

/**
 * Whether the periodic sweep may look at `record` at `nowMs` (epoch ms): only records accepted more
 * than `minAgeMs` ago, so that a submission whose enqueue is still under way (or about to be
 * undone and answered 503) is never queued behind the API's back.
 */
export function sweepable(record: Pick<JobRecord, 'created_at'>, nowMs: number, minAgeMs: number): boolean {
  const created = Date.parse(record.created_at);
  return Number.isFinite(created) && nowMs - created > minAgeMs;
}

/** Counts of a recovery run, by action, for its log line. */
export type RecoveryCounts = Record<RecordAction['kind'] | Extract<RecordAction, { kind: 'skip' }>['reason'], number>;

/** Zeroed counts. */
export function emptyCounts(): RecoveryCounts {
  return { requeue: 0, skip: 0, in_queue: 0, finished: 0, gone: 0, no_intake: 0 };
}

/** Adds one action to `counts`. */
export function countAction(counts: RecoveryCounts, action: RecordAction): void {
  counts[action.kind]++;
  if (action.kind === 'skip') counts[action.reason]++;
}
