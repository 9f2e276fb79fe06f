/**
 * What workers record for the alerter, cluster-wide, in Redis: per time bucket a hash of counters
 * (finished jobs, errors, the latency histogram, webhook dead letters, rate-limit waits per
 * provider), expiring once no window can reach it. A process adds its events up in memory and
 * writes them in one pipeline per flush interval (a second by default), never awaited by the job:
 * per job that is no Redis command at all, where a write per event cost four. An alert therefore
 * sees a worker's events up to one interval late, each counted in the bucket of its own time; a
 * failed write is logged and the alert sees those events less, as does a crash before the flush.
 * Keys, in a hash tag of their own (familyTag), so a Redis Cluster puts them beside nothing else:
 *   {<prefix>:alerts}:sig:<bucketSeconds>:<bucket start, epoch s>   hash: jobs, errors, l<i>, dl, rlw:<provider>
 */
import type { RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import { queuePrefix } from '../queue/jobs.ts';
import type { AlertsFile } from '../config/types.ts';
import type { JobRecord } from '../store/types.ts';
import { LATENCY_BUCKETS_S, bucketIndex } from './histogram.ts';
import type { SignalBucket } from './conditions.ts';

/** Logger methods the recorder uses (pino fits). */
export interface SignalLogger {
  warn(obj: object, msg: string): void;
}

/** The hash tag of every alerter key under the queue prefix (`{bull}` gives `{bull:alerts}`). */
export function alertsTag(prefix: string): string {
  return familyTag(queuePrefix(prefix), 'alerts');
}

/** The key of the bucket of width `bucketSeconds` that starts at `startSeconds` (epoch s). */
export function bucketKey(prefix: string, bucketSeconds: number, startSeconds: number): string {
  return `${alertsTag(prefix)}:sig:${bucketSeconds}:${startSeconds}`;
}

/** The longest window any rule looks at, in seconds. */
export function longestWindowSeconds(rules: AlertsFile): number {
  return Math.max(rules.latency_p95.window_seconds, rules.error_rate.window_seconds, rules.webhook_dead_letters.window_seconds, rules.rate_limit_waits.window_seconds);
}

/** Whether a finished job counts against the error rate: failed, rejected, or served the degraded answer. */
export function isErrorOutcome(record: Pick<JobRecord, 'status' | 'degraded' | 'served_by'>): boolean {
  return record.status === 'failed' || record.status === 'rejected' || record.degraded || record.served_by === 'degraded';
}

/** Options of AlertSignals. */
export interface AlertSignalsOptions {
  /** The clock, epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** Milliseconds events wait in memory before they are written. @defaultValue 1000 */
  flushMs?: number;
}

/** Counts added up in memory: per bucket key, per hash field. */
type Pending = Map<string, { ttlSeconds: number; fields: Map<string, number> }>;

/** Records the alerter's signals of one worker process (see the module comment). */
export class AlertSignals {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #rules: () => AlertsFile;
  readonly #log: SignalLogger;
  readonly #now: () => number;
  readonly #flushMs: number;
  #pending: Pending = new Map();
  #timer: NodeJS.Timeout | undefined;

  /** `rules` answers the running alerts.json. */
  constructor(redis: RedisClient, prefix: string, rules: () => AlertsFile, log: SignalLogger, options: AlertSignalsOptions = {}) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#rules = rules;
    this.#log = log;
    this.#now = options.now ?? Date.now;
    this.#flushMs = options.flushMs ?? 1000;
  }

  /** Counts a finished job: its outcome and its total latency. Returns at once. */
  jobFinished(record: Pick<JobRecord, 'status' | 'degraded' | 'served_by' | 'latency_ms'>): void {
    const fields: Record<string, number> = { jobs: 1 };
    if (isErrorOutcome(record)) fields['errors'] = 1;
    if (record.latency_ms) fields[`l${bucketIndex(record.latency_ms.total / 1000)}`] = 1;
    this.#add(fields);
  }

  /** Counts a webhook delivery that ended dead-lettered. Returns at once. */
  deadLetter(): void {
    this.#add({ dl: 1 });
  }

  /** Counts one call `provider`'s RPM/TPM limit held back. Returns at once. */
  rateLimitWait(provider: string): void {
    this.#add({ [`rlw:${provider}`]: 1 });
  }

  /** Writes the events added so far, in one pipeline; resolves when Redis answered. Never rejects. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    if (pending.size === 0) return;
    this.#pending = new Map();
    try {
      const pipeline = this.#redis.pipeline();
      for (const [key, { ttlSeconds, fields }] of pending) {
        for (const [field, n] of fields) pipeline.hincrby(key, field, n);
        pipeline.expire(key, ttlSeconds);
      }
      await pipeline.exec();
    } catch (err) {
      this.#log.warn({ err, event: 'alert_signal_lost' }, 'could not record alert signals');
    }
  }

  #add(fields: Record<string, number>): void {
    try {
      const rules = this.#rules();
      const b = rules.bucket_seconds;
      const start = Math.floor(this.#now() / 1000 / b) * b;
      const key = bucketKey(this.#prefix, b, start);
      let bucket = this.#pending.get(key);
      if (!bucket) {
        // Kept until the longest window has passed it, plus a bucket of slack.
        bucket = { ttlSeconds: longestWindowSeconds(rules) + 2 * b, fields: new Map() };
        this.#pending.set(key, bucket);
      }
      for (const field in fields) bucket.fields.set(field, (bucket.fields.get(field) ?? 0) + fields[field]!);
      if (!this.#timer) {
        this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
        // Pending signals never keep a process alive: shutdown flushes them (Alerter.close).
        this.#timer.unref();
      }
    } catch (err) {
      this.#log.warn({ err, event: 'alert_signal_lost' }, 'could not record an alert signal');
    }
  }
}

/**
 * Reads the buckets of width `bucketSeconds` covering the last `spanSeconds` before `nowMs`
 * (epoch ms), in one pipeline; a bucket no one wrote reads as zeros.
 */
export async function readBuckets(redis: RedisClient, prefix: string, bucketSeconds: number, nowMs: number, spanSeconds: number): Promise<SignalBucket[]> {
  const last = Math.floor(nowMs / 1000 / bucketSeconds) * bucketSeconds;
  const first = Math.floor((nowMs / 1000 - spanSeconds) / bucketSeconds) * bucketSeconds;
  const starts: number[] = [];
  for (let s = first; s <= last; s += bucketSeconds) starts.push(s);
  const pipeline = redis.pipeline();
  for (const s of starts) pipeline.hgetall(bucketKey(prefix, bucketSeconds, s));
  const replies = (await pipeline.exec()) ?? [];
  return starts.map((start, i) => {
    const [err, raw] = replies[i] ?? [null, {}];
    if (err) throw err;
    return parseBucket(start, (raw ?? {}) as Record<string, string>);
  });
}

/** One bucket's hash fields as a SignalBucket. */
export function parseBucket(start: number, fields: Record<string, string>): SignalBucket {
  const latency = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);
  const rateLimitWaits: Record<string, number> = {};
  for (const [field, value] of Object.entries(fields)) {
    const n = Number(value) || 0;
    if (/^l\d+$/.test(field)) {
      const i = Number(field.slice(1));
      if (i < latency.length) latency[i] = n;
    } else if (field.startsWith('rlw:')) rateLimitWaits[field.slice(4)] = n;
  }
  return { start, jobs: Number(fields['jobs'] ?? 0), errors: Number(fields['errors'] ?? 0), latency, deadLetters: Number(fields['dl'] ?? 0), rateLimitWaits };
}
