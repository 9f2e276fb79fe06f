/**
 * One log line when a Redis connection's outage starts and one when it ends, whatever happens in
 * between (hundreds of reconnect errors or timed-out commands). A paused or stopped Redis keeps
 * its TCP connections open and raises no connection event, so a probe (PING with a deadline)
 * notices it too.
 */
import type { RedisClient } from './client.ts';

/** What a log line of an outage says. */
export type OutageEvent =
  | { event: 'redis_unavailable'; connection: string; reason: string }
  | { event: 'redis_recovered'; connection: string; duration_ms: number; reason: string };

/**
 * The state of one connection: `down` and `up` answer the event to log, or null while the state
 * does not change. Pure: the caller passes the clock.
 */
export class OutageTracker {
  private since: number | null = null;
  private reason = '';
  readonly connection: string;

  constructor(connection: string) {
    this.connection = connection;
  }

  /** True while an outage is going on. */
  get isDown(): boolean {
    return this.since !== null;
  }

  /** Redis failed (`reason`) at `at` ms: an event only when this starts an outage. */
  down(reason: string, at: number): OutageEvent | null {
    if (this.since !== null) return null;
    this.since = at;
    this.reason = reason;
    return { event: 'redis_unavailable', connection: this.connection, reason };
  }

  /** Redis answered at `at` ms: an event only when this ends an outage. */
  up(at: number): OutageEvent | null {
    if (this.since === null) return null;
    const event: OutageEvent = { event: 'redis_recovered', connection: this.connection, duration_ms: at - this.since, reason: this.reason };
    this.since = null;
    return event;
  }
}

/** The least a logger must do for watchRedisOutages (pino's does). */
export interface OutageLogger {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
}

/** Options of watchRedisOutages. */
export interface OutageWatchOptions {
  /** Milliseconds between two probes (PING); 0 turns probing off. @defaultValue 1000 */
  probeIntervalMs?: number;
  /** Milliseconds a probe waits for PONG before the connection counts as down. @defaultValue 1000 */
  probeTimeoutMs?: number;
  /** The clock, in ms. @defaultValue Date.now */
  now?: () => number;
}

/** A watched connection: whether Redis answers now, and stop() to end the probe. */
export interface OutageWatch {
  readonly tracker: OutageTracker;
  stop(): void;
}

const write = (log: OutageLogger, e: OutageEvent | null) => {
  if (!e) return;
  if (e.event === 'redis_unavailable') log.warn(e, `Redis connection ${e.connection} unavailable: ${e.reason}`);
  else log.info(e, `Redis connection ${e.connection} recovered after ${e.duration_ms} ms`);
};

/**
 * Logs the outages of `redis` as `redis_unavailable` / `redis_recovered` JSON lines (with the
 * outage's duration), from its 'error', 'end' and 'ready' events and a periodic probe. Being a
 * listener of 'error', it also keeps ioredis from printing each error as an unhandled event.
 */
export function watchRedisOutages(redis: RedisClient, log: OutageLogger, connection: string, options: OutageWatchOptions = {}): OutageWatch {
  const now = options.now ?? Date.now;
  const tracker = new OutageTracker(connection);
  const interval = options.probeIntervalMs ?? 1000;
  const timeout = options.probeTimeoutMs ?? 1000;
  redis.on('error', (err: Error) => write(log, tracker.down(err.message || err.name, now())));
  redis.on('end', () => write(log, tracker.down('connection closed', now())));
  redis.on('ready', () => write(log, tracker.up(now())));
  let probing = false;
  const probe = () => {
    // A PING still waiting on a stalled Redis is answer enough; do not pile up more behind it.
    if (probing || redis.status !== 'ready') return;
    probing = true;
    const late = setTimeout(() => write(log, tracker.down(`no answer to PING in ${timeout} ms`, now())), timeout);
    redis
      .ping()
      .then(
        () => write(log, tracker.up(now())),
        (e: unknown) => write(log, tracker.down(e instanceof Error ? e.message : String(e), now())),
      )
      .finally(() => {
        clearTimeout(late);
        probing = false;
      });
  };
  const timer = interval > 0 ? setInterval(probe, interval).unref() : undefined;
  return { tracker, stop: () => clearInterval(timer) };
}
