import { readFileSync } from 'node:fs';
import type { RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import type { BreakerSettings } from '../config/types.ts';
import type { RateClaim } from '../ratelimit/rateLimiter.ts';

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

/** What asking the breaker and a rate limit together answers: the breaker's permit, or the rate limit's wait (then nothing was taken). */
export type Admission = { kind: 'permit'; permit: BreakerPermit } | { kind: 'wait'; waitMs: number };

/**
 * What a check run before each try (a rate limit) needs to take the breaker's permit in its own
 * round trip: the breaker and the arguments of `acquire`.
 */
export interface BreakerGate {
  breaker: Pick<SharedBreaker, 'acquire' | 'admit' | 'record'>;
  settings: BreakerSettings;
  /** Milliseconds a half-open trial holds its token (the call's timeout plus a grace). */
  trialTtlMs: number;
}

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
type AdmitReply = [...AcquireReply, number];
type RecordReply = [BreakerState, BreakerState];
interface BreakerCommands {
  breakerAcquire(key: string, now: number, halfOpenAfterMs: number, trialTtlMs: number): Promise<AcquireReply>;
  breakerAdmit(...args: (string | number)[]): Promise<AdmitReply>;
  breakerRecord(key: string, ...args: (string | number)[]): Promise<RecordReply>;
}

const lua = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');
// Preludes first: the scripts call the functions they define (see each file's header).
const GATE_LUA = lua('./breakerGate.lua');
const ACQUIRE_LUA = `${GATE_LUA}\n${lua('./breakerAcquire-1.lua')}`;
const ADMIT_LUA = `${GATE_LUA}\n${lua('../ratelimit/scripts/providerLimit.lua')}\n${lua('./admit-4.lua')}`;
const RECORD_LUA = lua('./breakerRecord-1.lua');

/** Called when recording an outcome failed (Redis down or slow): the breaker missed one result. */
export type RecordErrorListener = (provider: string, error: unknown) => void;

/**
 * A circuit breaker per provider whose state lives in Redis, so a provider that one worker finds
 * dead is skipped by every worker on its next call. Semantics follow cockatiel's breakers: opens
 * after `consecutive_failures` failures in a row, or when the failure ratio over
 * `sampling_window_ms` reaches `failure_rate` with at least `minimum_throughput` calls; after
 * `half_open_after_ms` exactly one trial call goes through; its success closes the breaker, its
 * failure re-opens it. One Redis round trip per acquire (also carrying the provider's rate limit,
 * see `admit`) and one per record.
 */
export class SharedBreaker {
  private readonly redis: RedisClient & BreakerCommands;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly listeners = new Set<TransitionListener>();
  private readonly errorListeners = new Set<RecordErrorListener>();
  // Records not answered yet, some not awaited by anyone (a success): drain() waits for them.
  private readonly pending = new Set<Promise<unknown>>();

  /** `prefix` is the braced queue prefix (e.g. '{bull}'); `now` returns epoch milliseconds (default Date.now). */
  constructor(redis: RedisClient, prefix: string, now: () => number = Date.now) {
    redis.defineCommand('breakerAcquire', { numberOfKeys: 1, lua: ACQUIRE_LUA });
    redis.defineCommand('breakerRecord', { numberOfKeys: 1, lua: RECORD_LUA });
    redis.defineCommand('breakerAdmit', { numberOfKeys: 4, lua: ADMIT_LUA });
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

  /** Subscribes to failed records (for logs); returns the unsubscribe function. */
  onRecordError(listener: RecordErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /**
   * Asks whether one call to `provider` may go out now. Never throws for an open breaker: a refusal
   * is `{allowed: false}` so the caller can fail over. `trialTtlMs` bounds how long a half-open
   * trial holds its token (use the call's timeout).
   */
  async acquire(provider: string, settings: BreakerSettings, trialTtlMs: number): Promise<BreakerPermit> {
    const reply = await this.redis.breakerAcquire(this.key(provider), this.now(), settings.half_open_after_ms, Math.max(1, Math.ceil(trialTtlMs)));
    return this.permit(provider, settings, reply);
  }

  /**
   * `acquire` and the provider rate limit `claim` in one round trip (admit-4.lua): the breaker is
   * asked first, so a refused call spends no allowance, and a call the rate limit holds back takes
   * no half-open trial. Its keys sit in two hash tags: a single Redis server only (RateLimiter
   * runs the two steps apart on a cluster).
   */
  async admit(provider: string, settings: BreakerSettings, trialTtlMs: number, claim: RateClaim): Promise<Admission> {
    const [allowed, state, isTrial, retryAtMs, trialId, previous, waitMs] = await this.redis.breakerAdmit(
      this.key(provider),
      ...claim.keys,
      this.now(),
      settings.half_open_after_ms,
      Math.max(1, Math.ceil(trialTtlMs)),
      claim.now,
      claim.windowMs,
      claim.rpm,
      claim.tpm,
      claim.tokens,
      claim.memberId,
    );
    if (waitMs > 0) return { kind: 'wait', waitMs };
    return { kind: 'permit', permit: this.permit(provider, settings, [allowed, state, isTrial, retryAtMs, trialId, previous]) };
  }

  /** Records the outcome of a permitted call and answers the breaker's state afterwards. */
  async record(permit: BreakerPermit, outcome: BreakerOutcome): Promise<BreakerState> {
    if (!permit.allowed) return permit.state;
    const sent = this.send(permit, outcome);
    const forget = () => this.pending.delete(sent);
    this.pending.add(sent);
    sent.then(forget, forget);
    try {
      return await sent;
    } catch (error) {
      for (const listener of this.errorListeners) {
        try {
          listener(permit.provider, error);
        } catch {
          // A broken log hook must not hide the error from the caller.
        }
      }
      throw error;
    }
  }

  /**
   * Resolves once every record sent so far has been answered or has failed: call it before closing
   * the connection, so that a success nobody waited for still lands (e.g. closes the breaker).
   */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async send(permit: Extract<BreakerPermit, { allowed: true }>, outcome: BreakerOutcome): Promise<BreakerState> {
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

  // Reads an acquire reply (see breakerAcquire-1.lua) and tells the listeners of a half-open transition.
  private permit(provider: string, settings: BreakerSettings, [allowed, state, isTrial, retryAtMs, trialId, previous]: AcquireReply): BreakerPermit {
    this.emit(provider, previous, state);
    if (allowed !== 1) return { allowed: false, provider, state, retryAtMs };
    return { allowed: true, provider, state, isTrial: isTrial === 1, trialId, settings };
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
