import { readFileSync } from 'node:fs';
import type { RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import type { BreakerSettings } from '../config/types.ts';

/** A breaker state, as every process sees it. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** What a call reports back to the breaker: `ignore` is neither (e.g. our own 400). */
export type BreakerOutcome = 'success' | 'failure' | 'ignore';

/** Time buckets in one sampling window: finer buckets slide the window more smoothly. */
export const BREAKER_BUCKETS = 10;

/** Permission for one call; pass it back to `record` once the call is over. */
export type BreakerPermit =
  | {
      allowed: true;
      provider: string;
      state: BreakerState;
      /** True for the single half-open trial call; its outcome closes or re-opens the breaker. */
      isTrial: boolean;
      /** Token id of the trial (0 when not a trial), so a stale holder cannot settle a later trial. */
      trialId: number;
      settings: BreakerSettings;
    }
  | {
      allowed: false;
      provider: string;
      state: BreakerState;
      /** Epoch milliseconds when asking again may succeed (open period or trial token ends). */
      retryAtMs: number;
    };

/** A breaker's state for dashboards and health checks. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** Epoch milliseconds when an open breaker half-opens; absent unless open. */
  openUntil?: number;
  /** Failures in a row since the last success while closed. */
  consecutiveFailures: number;
}

/** Called in the process that caused a transition (other processes see the new state, not the event). */
export type TransitionListener = (provider: string, from: BreakerState, to: BreakerState) => void;

type AcquireReply = [number, BreakerState, number, number, number, BreakerState];
type RecordReply = [BreakerState, BreakerState];
interface BreakerCommands {
  breakerAcquire(key: string, now: number, halfOpenAfterMs: number, trialTtlMs: number): Promise<AcquireReply>;
  breakerRecord(key: string, ...args: (string | number)[]): Promise<RecordReply>;
}

const lua = (name: string): string => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
const ACQUIRE_LUA = lua('breakerAcquire-1.lua');
const RECORD_LUA = lua('breakerRecord-1.lua');

/**
 * A circuit breaker per provider whose state lives in Redis, so a provider that one worker finds
 * dead is skipped by every worker on its next call. Semantics follow cockatiel's breakers: opens
 * after `consecutive_failures` failures in a row, or when the failure ratio over
 * `sampling_window_ms` reaches `failure_rate` with at least `minimum_throughput` calls; after
 * `half_open_after_ms` exactly one trial call goes through; its success closes the breaker, its
 * failure re-opens it. One Redis round trip per acquire and one per record.
 */
export class SharedBreaker {
  private readonly redis: RedisClient & BreakerCommands;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly listeners = new Set<TransitionListener>();

  /** `prefix` is the braced queue prefix (e.g. '{bull}'); `now` returns epoch milliseconds (default Date.now). */
  constructor(redis: RedisClient, prefix: string, now: () => number = Date.now) {
    redis.defineCommand('breakerAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    redis.defineCommand('breakerRecord', { numberOfKeys: 1, lua: RECORD_LUA });
    this.redis = redis as RedisClient & BreakerCommands;
    this.prefix = prefix;
    this.now = now;
  }

  /** The Redis key of a provider's breaker hash, in a hash tag of its own: `{<prefix>:breaker:<provider>}`. */
  key(provider: string): string {
    return familyTag(this.prefix, `breaker:${provider}`);
  }

  /** Subscribes to state transitions (for metrics and logs); returns the unsubscribe function. */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks whether one call to `provider` may go out now. Never throws for an open breaker: a refusal
   * is `{allowed: false}` so the caller can fail over. `trialTtlMs` bounds how long a half-open
   * trial holds its token (use the call's timeout).
   */
  async acquire(provider: string, settings: BreakerSettings, trialTtlMs: number): Promise<BreakerPermit> {
    const [allowed, state, isTrial, retryAtMs, trialId, previous] = await this.redis.breakerAcquire(
      this.key(provider),
      this.now(),
      settings.half_open_after_ms,
      Math.max(1, Math.ceil(trialTtlMs)),
    );
    this.emit(provider, previous, state);
    if (allowed !== 1) return { allowed: false, provider, state, retryAtMs };
    return { allowed: true, provider, state, isTrial: isTrial === 1, trialId, settings };
  }

  /** Records the outcome of a permitted call and answers the breaker's state afterwards. */
  async record(permit: BreakerPermit, outcome: BreakerOutcome): Promise<BreakerState> {
    if (!permit.allowed) return permit.state;
    const s = permit.settings;
    const [state, previous] = await this.redis.breakerRecord(
      this.key(permit.provider),
      outcome,
      this.now(),
      permit.isTrial ? permit.trialId : 0,
      s.consecutive_failures,
      s.failure_rate,
      s.sampling_window_ms,
      s.minimum_throughput,
      s.half_open_after_ms,
      BREAKER_BUCKETS,
    );
    this.emit(permit.provider, previous, state);
    return state;
  }

  /** The provider's breaker as every process sees it now (an open breaker past its wait reads half_open). */
  async state(provider: string): Promise<BreakerSnapshot> {
    const [st, openUntil, consecutive] = await this.redis.hmget(this.key(provider), 'st', 'ou', 'cf');
    return snapshot(st, openUntil, consecutive, this.now());
  }

  private emit(provider: string, from: BreakerState, to: BreakerState): void {
    if (from === to) return;
    for (const listener of this.listeners) {
      try {
        listener(provider, from, to);
      } catch {
        // A broken metrics hook must not fail a provider call.
      }
    }
  }
}

/** Reads the stored hash fields into a snapshot at `now` (epoch ms). */
export function snapshot(st: string | null | undefined, openUntil: string | null | undefined, consecutive: string | null | undefined, now: number): BreakerSnapshot {
  const consecutiveFailures = Number(consecutive ?? 0) || 0;
  if (st === 'open') {
    const until = Number(openUntil ?? 0);
    return now < until ? { state: 'open', openUntil: until, consecutiveFailures } : { state: 'half_open', consecutiveFailures };
  }
  if (st === 'half_open') return { state: 'half_open', consecutiveFailures };
  return { state: 'closed', consecutiveFailures };
}
