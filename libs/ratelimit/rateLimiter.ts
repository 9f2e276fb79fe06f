/**
 * Global rate limits in Redis, shared by every API and worker process: per-provider requests and
 * tokens per minute (checked by workers before a provider call) and per-client requests per minute
 * (checked by the API: submissions at intake, reads on every other /v1 request, as separate budgets). Each check is one Lua script call on an exact sliding log (a
 * ZSET of admitted requests), so no window of 60 s ever admits more than the limit. Memory: each
 * log holds at most `limit` entries (about 60 bytes each), and expires a minute after its last
 * admission. Keys, each provider's and each client's in a hash tag of their own (familyTag), so a
 * Redis Cluster spreads them; a prefix `{bull}` gives:
 *   {bull:rl:<provider>}:rpm, {bull:rl:<provider>}:tpm, {bull:rl:<provider>}:tpm:sum (one script, one slot)
 *   {bull:rl:client:<clientId>}          submissions
 *   {bull:rl:client:<clientId>}:reads    reads
 * Time comes from the callers' clocks (`now`); a call stamped earlier than the newest entry counts
 * at the newest entry's time, so the log never goes backwards and the limit stays exact even when
 * calls reach Redis out of order. Hosts must be NTP-synchronised: a host whose clock runs s ms
 * ahead makes everyone's entries count s ms later, so waits grow by up to s.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from '../redis/client.ts';
import { familyTag } from '../redis/keys.ts';
import { GatewayError } from '../errors/index.ts';

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
  const scripts: Array<[keyof RateCommands, string, number]> = [
    ['gatewayRateAcquire1', 'acquire-1.lua', 1],
    ['gatewayRateAcquire3', 'acquire-3.lua', 3],
  ];
  for (const [name, file, numberOfKeys] of scripts) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua: readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8') });
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
    this.prefix = prefix;
    this.now = now;
  }

  /**
   * Admits one call of `tokens` tokens to `provider` if both its RPM and TPM allow, recording it;
   * else answers the wait. A request larger than the whole TPM can never pass and throws
   * `rate_limit_request_too_large`.
   */
  async acquireProvider(provider: string, limits: ProviderRateLimits, tokens: number): Promise<AcquireResult> {
    assertCount('tokens', tokens);
    if (tokens > limits.tpm) {
      throw new GatewayError('rate_limit_request_too_large', `A request of ${tokens} tokens exceeds ${provider}'s limit of ${limits.tpm} tokens per minute.`);
    }
    const key = familyTag(this.prefix, `rl:${provider}`);
    const wait = await this.commands.gatewayRateAcquire3(
      `${key}:rpm`,
      `${key}:tpm`,
      `${key}:tpm:sum`,
      this.now(),
      this.#providerWindowMs,
      limits.rpm,
      limits.tpm,
      tokens,
      this.nextId(),
    );
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
