import { Redis } from 'ioredis';
import { GatewayError } from '../errors/index.ts';
import { redactSecrets, redactUrl, urlSecrets } from '../telemetry/redact.ts';
import { watchRedisOutages, type OutageLogger } from './outage.ts';

/** Options of createRedis. */
export interface RedisOptions {
  /**
   * Send commands issued in the same tick in one write. Default true: more throughput under many
   * concurrent jobs, at the price of a tick of delay per command, which shows in the tail latency
   * (the budget's reserve and settle use a connection without it).
   */
  autoPipelining?: boolean;
  /**
   * Logs the connection's outages, one line when each starts and one when it ends (see
   * watchRedisOutages); as a listener of 'error' it also keeps ioredis from printing each error
   * as a multi-line "Unhandled error event". @defaultValue none
   */
  log?: OutageLogger;
  /**
   * Whether the outage log also sends a PING each second, which alone notices a paused or stopped
   * Redis. Turn it off on a connection that blocks (XREAD BLOCK), where a PING waits its turn.
   * @defaultValue true
   */
  probe?: boolean;
  /**
   * Fail fast: a command not answered within this many milliseconds is rejected ("Command timed
   * out"), and none waits for a lost connection to come back (no offline queue, no retry, no
   * resend after a reconnect). For request paths that must answer in time, never for BullMQ
   * workers. @defaultValue undefined (commands wait for Redis, as workers need)
   */
  commandTimeoutMs?: number;
}

/** Milliseconds a fail-fast connection waits for each answer (the API's). @defaultValue 1000 */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 1000;

/**
 * Opens an ioredis connection. BullMQ workers and blocking commands need
 * `maxRetriesPerRequest: null`: a command then waits for Redis to come back instead of failing a
 * job mid-flight. With `commandTimeoutMs` it fails fast instead (BullMQ's Queue accepts that).
 */
export function createRedis(url: string, name = 'llm-gateway', options: RedisOptions = {}): Redis {
  const failFast =
    options.commandTimeoutMs === undefined
      ? { maxRetriesPerRequest: null }
      : { commandTimeout: options.commandTimeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false };
  const redis = new Redis(url, { ...failFast, connectionName: name, enableAutoPipelining: options.autoPipelining ?? true });
  if (options.log) watchRedisOutages(redis, options.log, name, {
      probeIntervalMs: options.probe === false ? 0 : 1000,
      probeTimeoutMs: options.commandTimeoutMs ?? FAIL_FAST_COMMAND_TIMEOUT_MS,
    });
  return redis;
}

// ioredis's own words for a command that Redis did not answer or could not be sent.
const UNAVAILABLE = /^(Command timed out|Stream isn't writeable|Connection is closed|Reached the max retries per request limit)/;

/** Whether `err` says Redis did not answer in time or could not be reached (as opposed to refusing a command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(err.message) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/.test(err.message);
}

/** Seconds a client is told to wait (Retry-After) when Redis is unavailable. @defaultValue 2 */
export const REDIS_RETRY_AFTER_S = 2;

/** GatewayError `redis_unavailable` (503, Retry-After): Redis did not answer in time. */
export function redisUnavailable(cause?: unknown): GatewayError {
  return new GatewayError('redis_unavailable', 'The queue store (Redis) did not answer in time; retry shortly.', {
    status: 503,
    retryAfterSeconds: REDIS_RETRY_AFTER_S,
    cause,
  });
}

/** `promise`, or a rejection with redisUnavailable() when it has not settled within `ms` milliseconds. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(redisUnavailable(new Error(`no answer in ${ms} ms`))), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one line printed when Redis is missing, with the command that starts one; the URL's credentials are masked. */
export function redisUnreachableMessage(url: string, reason: string): string {
  return `Redis is not reachable at ${redactUrl(url)} (${redactSecrets(reason, urlSecrets(url))}). Start one with \`docker compose up -d redis\` (or \`redis-server --daemonize yes\`), or set REDIS_URL.`;
}

/** The one line printed when Redis refuses the credentials of `url` (masked). */
export function redisAuthFailedMessage(url: string, reason: string): string {
  return `Redis at ${redactUrl(url)} refused the credentials (${redactSecrets(reason, urlSecrets(url))}). Check the user and password in REDIS_URL.`;
}

/**
 * Answers null when Redis at `url` answers PING within `timeoutMs` (default 2000 ms), else a
 * GatewayError `redis_auth_failed` (wrong password or user) or `redis_unreachable` whose message
 * is one line that never shows the URL's credentials. Never throws and never retries, so callers
 * can fail fast with one clear line.
 */
export async function redisProblem(url: string, timeoutMs = 2000): Promise<GatewayError | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined;
  client.on('error', (e: Error) => (lastError = e));
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    return null;
  } catch (e) {
    const cause = lastError ?? e;
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    return /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(reason)
      ? new GatewayError('redis_auth_failed', redisAuthFailedMessage(url, reason), { status: 503 })
      : new GatewayError('redis_unreachable', redisUnreachableMessage(url, reason), { status: 503 });
  } finally {
    client.disconnect();
  }
}

/** Answers null when Redis at `url` answers PING within `timeoutMs` (default 2000 ms), else the one-line message to print; see redisProblem. */
export async function checkRedis(url: string, timeoutMs = 2000): Promise<string | null> {
  return (await redisProblem(url, timeoutMs))?.message ?? null;
}

/** Exits the process with the one-line message (code 1) unless Redis at `url` answers; see redisProblem. */
export async function exitUnlessRedis(url: string): Promise<void> {
  const problem = await redisProblem(url);
  if (problem) {
    console.error(`${problem.code}: ${problem.message}`);
    process.exit(1);
  }
}
