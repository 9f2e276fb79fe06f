/**
 * Global rate limits in Redis, shared by every API and worker process: per-provider requests and
 * tokens per minute (checked by workers before a provider call) and per-client requests per minute
 * (checked by the API: submissions at intake, reads on every other /v1 request, as separate budgets). Each check is one Lua script call on an exact sliding log (a
 * ZSET of admitted requests), so no window of 60 s ever admits more than the limit. Memory: each
 * log holds at most `limit` entries (about 60 bytes each), and expires one to two minutes after its
 * last admission (its TTL is set once per minute-aligned period, not per call). Keys, each provider's and each client's in a hash tag of their own (familyTag), so a
 * Redis Cluster spreads them; a prefix `{bull}` gives:
 *   {bull:rl:<provider>}:rpm, {bull:rl:<provider>}:tpm, {bull:rl:<provider>}:tpm:sum (one script, one slot)
 *   {bull:rl:client:<clientId>}          submissions
 *   {bull:rl:client:<clientId>}:reads    reads
 * Time comes from the callers' clocks (`now`); a call stamped earlier than the newest entry counts
 * at the newest entry's time, so the log never goes backwards and the limit stays exact even when
 * calls reach Redis out of order. Hosts must be NTP-synchronised: a host whose clock runs s ms
 * ahead makes everyone's entries count s ms later, so waits grow by up to s.
 * A worker's provider check rides in the breaker's admission script (libs/resilience/admit-4.lua)
 * when it is given a breaker gate: same keys, same logic (scripts/providerLimit.lua).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isCluster, type RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import { GatewayError } from '../errors/index.ts';
import type { BreakerGate, BreakerPermit } from '../resilience/sharedBreaker.ts';

/** Length of the sliding window of every limit here, in ms (one minute). */
export const RATE_WINDOW_MS = 60_000;

/**
 * Extra milliseconds a provider call's admission counts for, beyond the minute. A call reaches the
 * provider a little after it is admitted (more so on a loaded worker); without this margin two
 * admissions 60 s apart could arrive less than 60 s apart. Default 2000 (the effective rate is
 * then the limit per 62 s, about 3% under).
 */
export const PROVIDER_WINDOW_SLACK_MS = 2000;

/** Outcome of an acquire: admitted (and recorded), or the milliseconds until it would be. */
export type AcquireResult = { ok: true } | { ok: false; waitMs: number };

/**
 * The outcome of a provider acquire. Without a breaker gate, as AcquireResult. With one, `ok` means
 * this try is decided and `permit` is the breaker's answer: allowed (the call was admitted by both),
 * or refused (no allowance was spent).
 */
export type ProviderAcquireResult = { ok: true; permit?: BreakerPermit } | { ok: false; waitMs: number };

/** One provider call's rate-limit check as data, so that the admission script can run it after the breaker (see scripts/providerLimit.lua). */
export interface RateClaim {
  /** The request log, token log and token sum of the provider. */
  keys: [string, string, string];
  /** Epoch milliseconds, from the limiter's clock. */
  now: number;
  /** Window of the logs, ms. */
  windowMs: number;
  rpm: number;
  tpm: number;
  /** Tokens of this call (input plus max output). */
  tokens: number;
  /** Member id, unique per call. */
  memberId: string;
}

/** A provider's limits across all workers (rate_limits.json `providers.<name>`). */
export interface ProviderRateLimits {
  /** Requests per minute. */
  rpm: number;
  /** Tokens per minute (count input plus max output tokens, as providers do). */
  tpm: number;
}

type Script = (...args: Array<string | number>) => Promise<number>;
interface RateCommands {
  gatewayRateAcquire1: Script;
  gatewayRateAcquire3: Script;
}

function defineScripts(redis: RedisClient): RateCommands {
  const read = (file: string) => readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8');
  // Name, file, key count, and the prelude that goes first (the admission script shares it).
  const scripts: Array<[keyof RateCommands, string, number, string?]> = [
    ['gatewayRateAcquire1', 'acquire-1.lua', 1],
    ['gatewayRateAcquire3', 'acquire-3.lua', 3, 'providerLimit.lua'],
  ];
  for (const [name, file, numberOfKeys, prelude] of scripts) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua: prelude ? `${read(prelude)}\n${read(file)}` : read(file) });
  }
  return redis as unknown as RateCommands;
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new GatewayError('rate_limit_invalid', `${name} must be a non-negative integer, got ${value}`);
}

/** The answer the API gives a client over its limit: 429 `rate_limited` with Retry-After in whole seconds (at least 1). */
export function rateLimitedError(waitMs: number): GatewayError {
  return new GatewayError('rate_limited', 'Too many requests; retry later.', { status: 429, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
}

/** Global sliding-window limiter (see the module comment). */
export class RateLimiter {
  private readonly commands: RateCommands;
  private readonly cluster: boolean;
  private readonly prefix: string;
  private readonly now: () => number;
  // Member ids: unique per process (random) and per call (counter), so concurrent calls never collide.
  private readonly idPrefix = randomUUID().slice(0, 12);
  private seq = 0;

  readonly #providerWindowMs: number;
  readonly #waitListeners: ((provider: string, waitMs: number) => void)[] = [];

  /**
   * `prefix` is the braced queue prefix (e.g. '{bull}'); `now` answers epoch ms (default Date.now);
   * `providerSlackMs` widens the provider window (default PROVIDER_WINDOW_SLACK_MS).
   */
  constructor(redis: RedisClient, prefix: string, now: () => number = Date.now, providerSlackMs = PROVIDER_WINDOW_SLACK_MS) {
    this.#providerWindowMs = RATE_WINDOW_MS + providerSlackMs;
    this.commands = defineScripts(redis);
    this.cluster = isCluster(redis);
    this.prefix = prefix;
    this.now = now;
  }

  /**
   * Admits one call of `tokens` tokens to `provider` if both its RPM and TPM allow, recording it;
   * else answers the wait. A request larger than the whole TPM can never pass and throws
   * `rate_limit_request_too_large`.
   *
   * With a breaker `gate`, the provider's breaker is asked first and its permit taken in the same
   * step (see ProviderAcquireResult): a refused call spends no allowance, and a call held back by
   * the limit takes no half-open trial. One round trip on a single Redis server; two on a cluster,
   * where the breaker and the limit live in different slots.
   */
  async acquireProvider(provider: string, limits: ProviderRateLimits, tokens: number, gate?: BreakerGate): Promise<ProviderAcquireResult> {
    assertCount('tokens', tokens);
    if (tokens > limits.tpm) {
      throw new GatewayError('rate_limit_request_too_large', `A request of ${tokens} tokens exceeds ${provider}'s limit of ${limits.tpm} tokens per minute.`);
    }
    const key = familyTag(this.prefix, `rl:${provider}`);
    const claim: RateClaim = {
      keys: [`${key}:rpm`, `${key}:tpm`, `${key}:tpm:sum`],
      now: this.now(),
      windowMs: this.#providerWindowMs,
      rpm: limits.rpm,
      tpm: limits.tpm,
      tokens,
      memberId: this.nextId(),
    };
    if (!gate) return this.answer(provider, await this.acquireClaim(claim));
    if (!this.cluster) {
      const admitted = await gate.breaker.admit(provider, gate.settings, gate.trialTtlMs, claim);
      return admitted.kind === 'permit' ? { ok: true, permit: admitted.permit } : this.answer(provider, admitted.waitMs);
    }
    // A cluster: the same order in two round trips.
    const permit = await gate.breaker.acquire(provider, gate.settings, gate.trialTtlMs);
    if (!permit.allowed) return { ok: true, permit };
    let wait: number;
    try {
      wait = await this.acquireClaim(claim);
    } catch (err) {
      // No call goes out: the trial token must not hold every process back until its TTL.
      if (permit.isTrial) await gate.breaker.record(permit, 'ignore').catch(() => undefined);
      throw err;
    }
    if (wait === 0) return { ok: true, permit };
    // Held back: hand the trial token back so another process may try now. Should that fail, the
    // token still expires with its TTL (the call's timeout), so the error is not the caller's.
    if (permit.isTrial) await gate.breaker.record(permit, 'ignore').catch(() => undefined);
    return this.answer(provider, wait);
  }

  private acquireClaim(c: RateClaim): Promise<number> {
    return this.commands.gatewayRateAcquire3(...c.keys, c.now, c.windowMs, c.rpm, c.tpm, c.tokens, c.memberId);
  }

  private answer(provider: string, wait: number): ProviderAcquireResult {
    if (wait === 0) return { ok: true };
    for (const listener of this.#waitListeners) listener(provider, wait);
    return { ok: false, waitMs: wait };
  }

  /** Calls `listener` (which must not throw) each time a provider's RPM/TPM limit holds a call back, with the wait in ms. */
  onProviderWait(listener: (provider: string, waitMs: number) => void): void {
    this.#waitListeners.push(listener);
  }

  /** Admits one submission from `clientId` if fewer than `rpm` were admitted in the last minute. */
  async acquireClient(clientId: string, rpm: number): Promise<AcquireResult> {
    const wait = await this.commands.gatewayRateAcquire1(familyTag(this.prefix, `rl:client:${clientId}`), this.now(), RATE_WINDOW_MS, rpm, this.nextId());
    return wait === 0 ? { ok: true } : { ok: false, waitMs: wait };
  }

  /** Admits one read (status, cancel, feedback, budget, report) from `clientId` if fewer than `rpm` were admitted in the last minute. */
  async acquireClientRead(clientId: string, rpm: number): Promise<AcquireResult> {
    const wait = await this.commands.gatewayRateAcquire1(`${familyTag(this.prefix, `rl:client:${clientId}`)}:reads`, this.now(), RATE_WINDOW_MS, rpm, this.nextId());
    return wait === 0 ? { ok: true } : { ok: false, waitMs: wait };
  }

  private nextId(): string {
    return `${this.idPrefix}${(this.seq++).toString(36)}`;
  }
}
