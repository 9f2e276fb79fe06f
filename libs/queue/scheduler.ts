/**
 * A cluster-wide tick from the running config: one BullMQ job scheduler, upserted by every process
 * at start and again when a reload changes its interval (the last write wins, and there is still
 * one tick per interval however many processes run).
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { ConfigHolder } from '../config/watch.ts';
import type { GatewayConfig } from '../config/types.ts';

/** What keepScheduled ticks and how often. */
export interface ScheduledTick {
  queue: Queue;
  /** The job scheduler's id (one per tick, cluster-wide). */
  schedulerId: string;
  /** Name of the jobs it adds. */
  jobName: string;
  config: ConfigHolder;
  /** Milliseconds between two ticks under a config. */
  everyMs: (cfg: GatewayConfig) => number;
  log: Logger;
  /** What the tick is, for the log line when it cannot be scheduled (e.g. 'the alert evaluation'). */
  what: string;
}

/** Schedules the tick now and keeps its interval in step with config reloads. */
export function keepScheduled(t: ScheduledTick): void {
  let interval = 0;
  const schedule = (every: number) => {
    if (every === interval) return;
    interval = every;
    t.queue
      .upsertJobScheduler(t.schedulerId, { every }, { name: t.jobName, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } })
      .catch((err: unknown) => t.log.error({ err }, `could not schedule ${t.what}`));
  };
  schedule(t.everyMs(t.config.current()));
  t.config.onReload((event) => {
    if (event.applied) schedule(t.everyMs(event.config));
  });
}
