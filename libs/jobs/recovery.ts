/**
 * Recovery after Redis lost its data (a restart without persistence, a failover that dropped the
 * last writes): every worker checks a marker key every few seconds; when it is missing, one worker
 * (SET NX) rebuilds what the result store knows: every unfinished job Redis no longer holds,
 * queued again under its own id (BullMQ ignores an id it already has), then the budget windows'
 * spend (a reservation seeds them itself if it comes first: BudgetStore.reserve).
 * The marker is a lease while recovery runs, so a worker that dies half-way leaves it to another.
 * A failover can also drop a master's last writes while the marker survives: a slower sweep (one
 * worker at a time, under a lease) queues again the unfinished records older than a few minutes
 * that Redis does not know.
 */
import { randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/client.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import type { JobRecord, JobStore } from '../store/types.ts';
import { countAction, decideRecord, emptyCounts, sweepable, type RecoveryCounts } from './reconciler.ts';

/** The marker key: present while Redis holds the data the gateway put there. */
export const epochKey = (prefix: string): string => `${prefix}:gateway:epoch`;
/** The sweep's lease key: held by the worker sweeping now. */
export const sweepKey = (prefix: string): string => `${prefix}:gateway:sweep`;

/** What recovery needs; the worker wires the real ones. */
export interface RecoveryDeps {
  /** Redis for the marker. */
  redis: RedisClient;
  /** The braced key prefix, e.g. `{bull}`. */
  prefix: string;
  queue: {
    getJob(id: string): Promise<unknown>;
    add(name: string, data: LlmJobData, options: JobsOptions): Promise<unknown>;
  };
  /** Options of a requeued job (the API's LLM_JOB_OPTIONS). */
  jobOptions: JobsOptions;
  store: Pick<JobStore, 'unfinished' | 'get'>;
  /** Rebuilds the current budget windows from the store (BudgetStore.seedWindows). */
  seedBudget: () => Promise<unknown>;
  log: { info(fields: object, msg: string): void; warn(fields: object, msg: string): void; error(fields: object, msg: string): void };
}

/** Options of the reconciler. */
export interface ReconcilerOptions {
  /**
   * Milliseconds between two checks of the marker.
   * @defaultValue 5000
   */
  intervalMs?: number;
  /**
   * Milliseconds the recovering worker holds the marker as a lease (renewed per page); if it dies,
   * another worker recovers once the lease ends.
   * @defaultValue 60000
   */
  leaseMs?: number;
  /**
   * Store records read per page.
   * @defaultValue 200
   */
  pageSize?: number;
  /**
   * Milliseconds between two sweeps for jobs a failover dropped (0: no sweep).
   * @defaultValue 60000
   */
  sweepIntervalMs?: number;
  /**
   * Milliseconds a record must have existed before a sweep queues it again.
   * @defaultValue 120000
   */
  sweepMinAgeMs?: number;
  /** Epoch ms now. @defaultValue Date.now */
  now?: () => number;
}

/** A running reconciler. */
export interface Reconciler {
  /** Checks the marker now and recovers if it is missing; answers the counts, or null when Redis was intact. */
  check(): Promise<RecoveryCounts | null>;
  /** Sweeps now (if no other worker holds the sweep's lease); answers the counts, or null when another sweeps. */
  sweep(): Promise<RecoveryCounts | null>;
  /** Stops the periodic check and waits for a recovery in progress. */
  stop(): Promise<void>;
}

/** Starts checking the marker every `intervalMs` (the first check runs at once). */
export function startReconciler(deps: RecoveryDeps, options: ReconcilerOptions = {}): Reconciler {
  const intervalMs = options.intervalMs ?? 5000;
  const leaseMs = options.leaseMs ?? 60_000;
  const pageSize = options.pageSize ?? 200;
  const key = epochKey(deps.prefix);
  let running: Promise<RecoveryCounts | null> | undefined;
  const now = options.now ?? Date.now;

  /** Queues again every unfinished record `include` admits that Redis does not know; `renew` runs after each page. */
  const requeueLost = async (include: (record: JobRecord) => boolean, renew: () => Promise<unknown>): Promise<RecoveryCounts> => {
    const counts = emptyCounts();
    for (let after = ''; ; ) {
      const page = await deps.store.unfinished(after, pageSize);
      for (const record of page) {
        if (!include(record)) continue;
        const inQueue = (await deps.queue.getJob(record.id)) != null;
        // Read again after Redis answered: a job that finished meanwhile must not run twice.
        const again = inQueue ? record : await deps.store.get(record.client_id, record.id);
        const action = decideRecord(record, inQueue, again);
        if (action.kind === 'requeue') await deps.queue.add('llm', action.data, { ...deps.jobOptions, jobId: action.id });
        countAction(counts, action);
      }
      if (page.length < pageSize) return counts;
      after = page.at(-1)!.id;
      await renew();
    }
  };

  const recover = async (epoch: string): Promise<RecoveryCounts> => {
    const lease = `recovering:${epoch}`;
    deps.log.warn({ event: 'redis_data_lost', epoch }, 'Redis holds no gateway marker (new, or it lost its data): rebuilding budget spend and queued jobs from the result store');
    const counts = await requeueLost(() => true, () => deps.redis.set(key, lease, 'PX', leaseMs, 'XX'));
    // After the requeue: a job that was running at the loss (its hold went with Redis) either
    // finished before the listing, and its stored cost is summed now, or was queued again, and
    // its rerun pays into the rebuilt windows.
    await deps.seedBudget();
    await deps.redis.set(key, epoch);
    deps.log.warn({ event: 'redis_recovered', epoch, ...counts }, `recovered from the result store: ${counts.requeue} jobs queued again`);
    return counts;
  };

  const checkOnce = async (): Promise<RecoveryCounts | null> => {
    const epoch = randomUUID();
    // Only the worker that sets the missing marker recovers; the others see it and carry on.
    if ((await deps.redis.set(key, `recovering:${epoch}`, 'PX', leaseMs, 'NX')) !== 'OK') return null;
    try {
      return await recover(epoch);
    } catch (error) {
      // Let another check (this worker's or another's) try again at once.
      await deps.redis.del(key).catch(() => undefined);
      throw error;
    }
  };

  const check = (): Promise<RecoveryCounts | null> => {
    running ??= checkOnce().finally(() => (running = undefined));
    return running;
  };

  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const sweepMinAgeMs = options.sweepMinAgeMs ?? 120_000;
  let sweeping: Promise<RecoveryCounts | null> | undefined;
  const sweepOnce = async (): Promise<RecoveryCounts | null> => {
    // One worker sweeps per interval; the lease lapses by itself.
    if ((await deps.redis.set(sweepKey(deps.prefix), '1', 'PX', Math.max(1000, sweepIntervalMs), 'NX')) !== 'OK') return null;
    const at = now();
    const counts = await requeueLost((record) => sweepable(record, at, sweepMinAgeMs), async () => undefined);
    if (counts.requeue > 0) deps.log.warn({ event: 'jobs_lost_by_redis', ...counts }, `queued again ${counts.requeue} accepted jobs Redis no longer held`);
    return counts;
  };
  const sweep = (): Promise<RecoveryCounts | null> => {
    sweeping ??= sweepOnce().finally(() => (sweeping = undefined));
    return sweeping;
  };

  const tick = () => void check().catch((err: unknown) => deps.log.error({ err }, 'recovery from the result store failed; trying again'));
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  const sweepTimer =
    sweepIntervalMs > 0 ? setInterval(() => void sweep().catch((err: unknown) => deps.log.error({ err }, 'sweep for jobs Redis lost failed')), sweepIntervalMs) : undefined;
  sweepTimer?.unref();
  return {
    check,
    sweep,
    async stop() {
      clearInterval(timer);
      clearInterval(sweepTimer);
      await Promise.all([running?.catch(() => undefined), sweeping?.catch(() => undefined)]);
    },
  };
}
