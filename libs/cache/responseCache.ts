import { readFileSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import { FlightSignals } from './flightSignals.ts';
import { singleFlight, type FlightBackend, type FlightListener, type FlightProbe, type FlightResult, type RenewFailure } from './singleFlight.ts';
import { decodeEntry, encodeEntry, keyLifetimeMs, lookupEntry, type CachedAnswer, type CacheLookup } from './stored.ts';

export type { CachedAnswer, CacheLookup } from './stored.ts';
export type { FlightOutcome, FlightResult, RenewFailure } from './singleFlight.ts';

/** Milliseconds a single-flight lock lives unless its holder renews it (every third of this). @defaultValue 5000 */
export const DEFAULT_FLIGHT_LOCK_TTL_MS = 5000;

/**
 * The response cache in Redis: answers by cache key (key.ts), fresh for the feature's ttl_seconds,
 * then kept as a stale fallback until stale_ttl_seconds; and single flight, so that identical
 * concurrent requests across all workers pay for one provider call.
 *
 * Keys, an entry and its lock in a hash tag of their own (one slot, which the lock script and the
 * completing pipeline need; a Redis Cluster spreads the entries): `{<prefix>:cache:<key>}:entry`
 * (JSON, see stored.ts), `{<prefix>:cache:<key>}:lock` (a flight's token); pub/sub channel
 * `{prefix}:cache:done:<key>` (the stored JSON, or "" when a leader failed).
 */

/** Options of getOrCompute. */
export interface GetOrComputeOptions {
  /** Seconds a computed answer stays fresh (FeatureConfig.cache.ttl_seconds). */
  ttlSeconds: number;
  /** Seconds the answer is kept in all, stale after ttlSeconds (FeatureConfig.cache.stale_ttl_seconds). */
  staleTtlSeconds: number;
  /**
   * Milliseconds the lock lives unless renewed; the computing caller renews it every third of
   * this while it runs, so a caller that dies frees the key this soon.
   * @defaultValue DEFAULT_FLIGHT_LOCK_TTL_MS (5000)
   */
  lockTtlMs?: number;
  /** Most milliseconds a caller waits for another's computation before computing by itself; more than a computation's worst case. */
  waitTimeoutMs: number;
  /** Called when renewing the lock fails (lost to another caller, or a Redis error); the computation goes on. Default: ignored. */
  onRenewFailure?: (failure: RenewFailure) => void;
  /**
   * Whether a computed answer is kept for later requests. One it refuses is still handed to the
   * callers waiting for this flight, but not stored. Default: every answer is kept.
   */
  keep?: (value: CachedAnswer) => boolean;
  /** Called with a failed cache write; the answer is still returned. Default: ignored. */
  onStoreError?: (err: unknown) => void;
  /** Stops a caller waiting on another's computation (rejecting with the signal's reason); compute must heed it itself. @defaultValue none */
  signal?: AbortSignal;
  /** Called once when this caller starts waiting on another's computation (see SingleFlightOptions.onFollow). @defaultValue none */
  onFollow?: () => void;
}

/** Options of a read. */
export interface GetOptions {
  /** Answer an entry past its fresh TTL too (flagged stale). Default false. */
  allowStale?: boolean;
}

const LOCK_OR_READ = readFileSync(new URL('./lua/lockOrRead-2.lua', import.meta.url), 'utf8');
const RELEASE_LOCK = readFileSync(new URL('./lua/releaseLock-1.lua', import.meta.url), 'utf8');
const RENEW_LOCK = readFileSync(new URL('./lua/renewLock-1.lua', import.meta.url), 'utf8');
const COMPLETE = readFileSync(new URL('./lua/complete-2.lua', import.meta.url), 'utf8');

interface CacheScripts {
  cacheLockOrRead(entryKey: string, lockKey: string, token: string, lockTtlMs: number, nowMs: number): Promise<[number, string | number | undefined]>;
  cacheRenewLock(lockKey: string, token: string, lockTtlMs: number): Promise<number>;
  cacheComplete(entryKey: string, lockKey: string, token: string, raw: string, lifetimeMs: number, channel: string): Promise<number>;
}
type ScriptedPipeline = ChainableCommander & { cacheReleaseLock(lockKey: string, token: string): ChainableCommander };

/** Defines the cache's Lua commands on a connection once (ioredis sends EVALSHA, loading on NOSCRIPT). */
function withScripts(redis: RedisClient): RedisClient & CacheScripts {
  if (typeof (redis as Partial<CacheScripts>).cacheComplete !== 'function') {
    redis.defineCommand('cacheLockOrRead', { numberOfKeys: 2, lua: LOCK_OR_READ });
    redis.defineCommand('cacheComplete', { numberOfKeys: 2, lua: COMPLETE });
    redis.defineCommand('cacheReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
    redis.defineCommand('cacheRenewLock', { numberOfKeys: 1, lua: RENEW_LOCK });
  }
  return redis as RedisClient & CacheScripts;
}

/** Runs a pipeline (one round trip) and throws the first command error. */
async function run(pipeline: ChainableCommander): Promise<void> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
}

export class ResponseCache {
  readonly #redis: RedisClient & CacheScripts;
  readonly #prefix: string;
  readonly #signals: FlightSignals;
  readonly #now: () => number;
  readonly #flights = new Map<string, Promise<FlightResult<CachedAnswer>>>();

  /**
   * `redis` is used, never closed; `prefix` is the braced queue prefix (queuePrefix(), e.g.
   * `{bull}`); `now` is the clock in Unix milliseconds (default Date.now).
   */
  constructor(redis: RedisClient, prefix: string, options: { now?: () => number } = {}) {
    this.#redis = withScripts(redis);
    this.#prefix = prefix;
    this.#signals = new FlightSignals(redis);
    this.#now = options.now ?? Date.now;
  }

  /** The Redis key of an entry. */
  entryKey(key: string): string {
    return `${familyTag(this.#prefix, `cache:${key}`)}:entry`;
  }

  /** The Redis key of a flight's lock. */
  lockKey(key: string): string {
    return `${familyTag(this.#prefix, `cache:${key}`)}:lock`;
  }

  /** The pub/sub channel a flight's result is published on. */
  channel(key: string): string {
    return `${this.#prefix}:cache:done:${key}`;
  }

  /** The entry under `key` (one GET); a stale one only with `allowStale`. */
  async get(key: string, options: GetOptions = {}): Promise<CacheLookup | null> {
    return lookupEntry(await this.#redis.get(this.entryKey(key)), this.#now(), options.allowStale === true);
  }

  /**
   * The first of `keys` that has an entry, e.g. the request's key then its category key: GETs sent
   * together (entries live in different slots, so no MGET), one round trip when auto-pipelined.
   */
  async getFirst(keys: string[], options: GetOptions = {}): Promise<(CacheLookup & { key: string }) | null> {
    if (keys.length === 0) return null;
    const raws = await Promise.all(keys.map((k) => this.#redis.get(this.entryKey(k))));
    const now = this.#now();
    for (const [i, raw] of raws.entries()) {
      const found = lookupEntry(raw, now, options.allowStale === true);
      if (found) return { ...found, key: keys[i]! };
    }
    return null;
  }

  /** Stores `entry` under `key`, fresh for ttlSeconds, kept until staleTtlSeconds; one round trip. */
  async set(key: string, entry: CachedAnswer, ttlSeconds: number, staleTtlSeconds: number): Promise<void> {
    const lifetimeMs = keyLifetimeMs(ttlSeconds, staleTtlSeconds);
    await this.#redis.set(this.entryKey(key), encodeEntry(entry, this.#now() + Math.round(ttlSeconds * 1000)), 'PX', lifetimeMs);
  }

  /**
   * The fresh answer under `key`, or the answer of a computation already running for it in any
   * process, or `compute()`'s answer, stored and shared; see singleFlight.ts for the failure rule.
   * A hit costs one round trip; a computed answer two, plus one per lock renewal (every third of the lock TTL).
   */
  getOrCompute(key: string, compute: () => Promise<CachedAnswer>, options: GetOrComputeOptions): Promise<FlightResult<CachedAnswer>> {
    keyLifetimeMs(options.ttlSeconds, options.staleTtlSeconds); // refuse bad TTLs before any call
    return singleFlight(key, compute, {
      backend: this.#backend(options),
      flights: this.#flights,
      lockTtlMs: options.lockTtlMs ?? DEFAULT_FLIGHT_LOCK_TTL_MS,
      waitTimeoutMs: options.waitTimeoutMs,
      onStoreError: options.onStoreError,
      onRenewFailure: options.onRenewFailure,
      now: this.#now,
      signal: options.signal,
      onFollow: options.onFollow,
    });
  }

  /** Closes the pub/sub connection this cache opened (not the one it was given). */
  async close(): Promise<void> {
    await this.#signals.close();
  }

  #backend(options: GetOrComputeOptions): FlightBackend<CachedAnswer> {
    return {
      probe: async (key, token, lockTtlMs): Promise<FlightProbe<CachedAnswer>> => {
        const now = this.#now();
        const [kind, payload] = await this.#redis.cacheLockOrRead(this.entryKey(key), this.lockKey(key), token, lockTtlMs, now);
        if (kind === 1) {
          const found = decodeEntry(String(payload), now);
          if (found) return { kind: 'hit', value: found.entry };
        }
        if (kind === 3) return { kind: 'follower', lockTtlMs: Number(payload) };
        // kind 2, or an entry the script found fresh but we cannot read: we lead.
        return { kind: 'leader' };
      },
      complete: async (key, token, value) => {
        const kept = options.keep?.(value) ?? true;
        const raw = encodeEntry(value, this.#now() + Math.round(options.ttlSeconds * 1000));
        const lifetimeMs = kept ? keyLifetimeMs(options.ttlSeconds, options.staleTtlSeconds) : 0;
        // One script: the answer is sent once for the store and the followers' signal.
        await this.#redis.cacheComplete(this.entryKey(key), this.lockKey(key), token, raw, lifetimeMs, this.channel(key));
      },
      abandon: async (key, token) => {
        // Release first, so the followers the signal wakes find the lock free.
        const pipeline = this.#redis.pipeline() as ScriptedPipeline;
        pipeline.cacheReleaseLock(this.lockKey(key), token);
        pipeline.publish(this.channel(key), '');
        await run(pipeline);
      },
      renew: async (key, token, lockTtlMs) => (await this.#redis.cacheRenewLock(this.lockKey(key), token, lockTtlMs)) === 1,
      listen: async (key): Promise<FlightListener<CachedAnswer>> => {
        const box = await this.#signals.listen(this.channel(key));
        return {
          next: async (ms) => {
            const message = await box.next(ms);
            if (message === undefined) return null;
            if (message === '') return { kind: 'failed' };
            const found = decodeEntry(message, this.#now());
            return found ? { kind: 'done', value: found.entry } : null;
          },
          close: () => box.close(),
        };
      },
    };
  }
}
