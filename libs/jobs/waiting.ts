/**
 * Why a queued job is not running yet, and until when: the `waiting` field of the public job.
 *
 * The worker that delays a job records the reason in a small key of its own (`waitingKey`), which
 * expires shortly after the delay ends; the API reads it beside the job's place in BullMQ's
 * delayed set, which is the truth about *when*. A delayed job with no matching record was delayed
 * by BullMQ's own backoff between attempts.
 */
import type { RedisClient } from '../redis/client.ts';

/** The reasons a queued job can wait for. */
export const WAITING_REASONS = ['budget', 'rate_limit', 'retry_after', 'backoff', 'batch', 'pacing'] as const;

/** One of WAITING_REASONS. */
export type WaitingReason = (typeof WAITING_REASONS)[number];

/** The `waiting` field of a public job: why it waits and until when (ISO time). */
export interface Waiting {
  reason: WaitingReason;
  until: string;
}

/** Milliseconds a waiting record outlives its delay, so a slow promotion still finds it; then Redis drops it. */
export const WAITING_RECORD_MARGIN_MS = 60_000;

/** Milliseconds by which a recorded `until` may differ from the delayed set's and still describe the same delay. */
export const WAITING_MATCH_MS = 1000;

/** The key holding why job `jobId` was last delayed (in the queue's slot: `prefix` is the braced queue prefix). */
export const waitingKey = (prefix: string, jobId: string): string => `${prefix}:waiting:${jobId}`;

/** The set of jobs delayed because the budget was exhausted: promoted when the budget config changes. */
export const budgetDeferredKey = (prefix: string): string => `${prefix}:budget-deferred`;

/** The BullMQ delayed set of queue `queueName`. */
export const delayedKey = (prefix: string, queueName: string): string => `${prefix}:${queueName}:delayed`;

/** Epoch ms a job is due, from its score in BullMQ's delayed set (timestamp * 4096 plus a tie-breaker). */
export function dueAtFromScore(score: string | number): number {
  return Math.floor(Number(score) / 0x1000);
}

/** A recorded reason as stored: `reason|untilMs`. */
export function encodeWaiting(reason: WaitingReason, untilMs: number): string {
  return `${reason}|${Math.round(untilMs)}`;
}

/** The recorded reason, or null for a missing or malformed record. */
export function decodeWaiting(raw: string | null): { reason: WaitingReason; untilMs: number } | null {
  if (!raw) return null;
  const [reason, until] = raw.split('|');
  const untilMs = Number(until);
  if (!(WAITING_REASONS as readonly string[]).includes(reason ?? '') || !Number.isFinite(untilMs)) return null;
  return { reason: reason as WaitingReason, untilMs };
}

/**
 * The `waiting` field from the job's BullMQ state, its score in the delayed set (null when not
 * there) and its recorded reason. Only a delayed job waits for something; one in the wait list
 * merely waits its turn (null).
 */
export function waitingFrom(state: string, delayedScore: string | null, recorded: string | null): Waiting | null {
  if (state !== 'delayed' || delayedScore === null) return null;
  const dueAt = dueAtFromScore(delayedScore);
  const record = decodeWaiting(recorded);
  // A record of an earlier delay (a rate limit, then a failed attempt) must not explain this one.
  const reason = record && Math.abs(record.untilMs - dueAt) <= WAITING_MATCH_MS ? record.reason : 'backoff';
  return { reason, until: new Date(dueAt).toISOString() };
}

/**
 * Records why job `jobId` is about to be delayed until `untilMs` (epoch ms); a budget deferral
 * also joins the set that a budget change promotes. One round trip; call before moveToDelayed, so
 * the job is never delayed without its reason.
 */
export async function recordWaiting(redis: RedisClient, prefix: string, jobId: string, reason: WaitingReason, untilMs: number, options: { budgetDeferred?: boolean } = {}): Promise<void> {
  const pipeline = redis.multi();
  pipeline.set(waitingKey(prefix, jobId), encodeWaiting(reason, untilMs), 'PXAT', Math.round(untilMs) + WAITING_RECORD_MARGIN_MS);
  if (options.budgetDeferred) pipeline.sadd(budgetDeferredKey(prefix), jobId);
  await pipeline.exec();
}

/** The `waiting` field of job `jobId` in state `state` of queue `queueName` (one round trip for a delayed job, none otherwise). */
export async function readWaiting(redis: RedisClient, prefix: string, queueName: string, jobId: string, state: string): Promise<Waiting | null> {
  if (state !== 'delayed') return null;
  const results = await redis.multi().zscore(delayedKey(prefix, queueName), jobId).get(waitingKey(prefix, jobId)).exec();
  const score = (results?.[0]?.[1] as string | null | undefined) ?? null;
  const recorded = (results?.[1]?.[1] as string | null | undefined) ?? null;
  return waitingFrom(state, score, recorded);
}
