/**
 * The batch lane's clock in a worker process: a BullMQ job scheduler ticks `batch-lane` every
 * `poll_interval_ms` (one tick per interval cluster-wide, however many workers run), and a lease in
 * Redis keeps two ticks from ever running at once (a slow tick and the next one), since two ticks
 * sending the same claimed batch would pay for it twice.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { RedisClient } from '../redis/client.ts';
import type { ConfigHolder } from '../config/watch.ts';
import { runLaneTick, type LaneTickDeps } from './ticker.ts';
import { keepScheduled } from '../queue/scheduler.ts';

/** Name of the BullMQ queue the lane's scheduler feeds. */
export const BATCH_LANE_QUEUE = 'batch-lane';

/** Id of the job scheduler that ticks the lane. */
export const BATCH_LANE_SCHEDULER_ID = 'batch-lane-tick';

/** Milliseconds a tick's lease lasts; a tick renews it between batches. @defaultValue 120000 */
export const TICK_LEASE_MS = 120_000;

/** Interval used while the config has no batch lane: the scheduler keeps ticking, slowly, to collect what is out. */
const IDLE_INTERVAL_MS = 60_000;

const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** What startBatchLane needs besides a tick's own deps. */
export interface BatchLaneOptions {
  /** A BullMQ-ready connection (maxRetriesPerRequest: null). */
  connection: RedisClient;
  /** The braced queue prefix ('{bull}'). */
  prefix: string;
  config: ConfigHolder;
  tick: Omit<LaneTickDeps, 'config'>;
}

/** A running lane clock. */
export interface BatchLaneClock {
  /** Runs one tick now under the lease (tests and shutdown); false when another tick holds it. */
  tickNow(): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts the lane's scheduler and its worker in this process. */
export function startBatchLane(o: BatchLaneOptions): BatchLaneClock {
  const { connection, prefix, config } = o;
  const queue = new Queue(BATCH_LANE_QUEUE, { connection, prefix });
  const leaseKey = `${prefix}:lane:lease`;
  keepScheduled({ queue, schedulerId: BATCH_LANE_SCHEDULER_ID, jobName: 'tick', config, everyMs: (cfg) => cfg.providers.batch?.poll_interval_ms ?? IDLE_INTERVAL_MS, log: o.tick.log, what: 'the batch lane' });

  const tickNow = async (): Promise<boolean> => {
    const token = randomUUID();
    if ((await connection.set(leaseKey, token, 'PX', TICK_LEASE_MS, 'NX')) !== 'OK') return false;
    try {
      // A tick that lost its lease (stalled past it) stops before touching another batch.
      const renew = async () => {
        if ((await connection.eval(RENEW_LUA, 1, leaseKey, token, String(TICK_LEASE_MS))) !== 1) throw new Error('the batch lane lease was lost; this tick stops');
      };
      await runLaneTick({ ...o.tick, config: () => config.current(), beforeEach: renew });
      return true;
    } finally {
      await connection.eval(RELEASE_LUA, 1, leaseKey, token).catch(() => undefined);
    }
  };
  const worker = new Worker(BATCH_LANE_QUEUE, async () => void (await tickNow()), { connection, prefix, concurrency: 1 });
  worker.on('error', (err) => o.tick.log.error({ err }, 'batch lane worker error'));
  return {
    tickNow,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
