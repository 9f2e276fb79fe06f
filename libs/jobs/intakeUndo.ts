/**
 * Undoing a submission that Redis did not answer in time. A command whose answer timed out on our
 * side was still sent: Redis runs it when it resumes (after a CLIENT PAUSE or a SIGSTOP), so a
 * 503-answered job would be queued later. The undo is sent on the same connection after it, and
 * Redis runs one connection's commands in order: the job is removed before a worker can take it,
 * unless a worker took it while the answer was only late (then it runs, and keeps its
 * Idempotency-Key, so the client's retry with that key is answered with the same job).
 */
import { readFileSync } from 'node:fs';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../redis/client.ts';
import { isRedisUnavailable } from '../redis/connection.ts';

/** What became of a submission that was answered 503. */
export type UndoOutcome = 'not_queued' | 'removed' | 'kept_running';

/** Options of IntakeUndo. */
export interface IntakeUndoOptions {
  /** Milliseconds between two tries while Redis is still unavailable. @defaultValue 1000 */
  retryMs?: number;
  /** Milliseconds after which the undo gives up (and logs it). @defaultValue 600000 */
  giveUpMs?: number;
  /** Receives the outcome of each undo. @defaultValue none */
  log?: { warn(fields: object, msg: string): void; info(fields: object, msg: string): void };
}

const SCRIPT = 'releaseClaimUnlessJob';
type WithScript = RedisClient & { [SCRIPT](jobKey: string, claimKey: string): Promise<number> };

/** Undoes submissions that timed out; one per API process, on the connection its queue uses. */
export class IntakeUndo {
  readonly #redis: WithScript;
  readonly #options: IntakeUndoOptions;

  constructor(redis: RedisClient, options: IntakeUndoOptions = {}) {
    if (!(SCRIPT in redis)) {
      redis.defineCommand(SCRIPT, { numberOfKeys: 2, lua: readFileSync(new URL('./scripts/releaseClaimUnlessJob-2.lua', import.meta.url), 'utf8') });
    }
    this.#redis = redis as WithScript;
    this.#options = options;
  }

  /**
   * Starts undoing job `jobId` of `queue` in the background (never throws): removes it if its add
   * was sent (`added`), then forgets `claimKey` unless the job still exists. Retries each
   * `retryMs` while Redis is unavailable, since each try is idempotent and queued behind the last.
   */
  start(queue: Queue, jobId: string, { added, claimKey }: { added: boolean; claimKey?: string }): Promise<UndoOutcome | 'gave_up'> {
    const { retryMs = 1000, giveUpMs = 600_000, log } = this.#options;
    const deadline = Date.now() + giveUpMs;
    const once = async (): Promise<UndoOutcome> => {
      // Sent first (and awaited, even if only to its timeout), so Redis runs it before the release.
      const removed = added ? await queue.remove(jobId) : 0;
      const jobKey = queue.toKey(jobId);
      const exists = claimKey ? (await this.#redis[SCRIPT](jobKey, claimKey)) === 1 : (await this.#redis.exists(jobKey)) === 1;
      return exists ? 'kept_running' : removed === 1 ? 'removed' : 'not_queued';
    };
    // A try after an unanswered one finds the job already removed: its outcome says not_queued.
    const run = async (): Promise<UndoOutcome | 'gave_up'> => {
      for (;;) {
        try {
          return await once();
        } catch (e) {
          if (!isRedisUnavailable(e) || Date.now() > deadline) {
            log?.warn({ event: 'intake_undo_failed', job_id: jobId, err: String(e) }, `could not undo the unanswered submission of job ${jobId}`);
            return 'gave_up';
          }
          await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        }
      }
    };
    return run().then((outcome) => {
      if (outcome === 'kept_running') {
        log?.warn({ event: 'intake_undo_kept', job_id: jobId }, `job ${jobId} was answered 503 but a worker had already taken it: it runs, and keeps its Idempotency-Key`);
      } else if (outcome !== 'gave_up') log?.info({ event: 'intake_undone', job_id: jobId, outcome }, `unanswered submission of job ${jobId}: ${outcome}`);
      return outcome;
    });
  }
}
