import { Redis } from 'ioredis';
import { GatewayError } from '../errors/index.ts';
import { redactSecrets, redactUrl, urlSecrets } from '../telemetry/redact.ts';

/** Options of createRedis. */
export interface RedisOptions {
  /**
   * Send commands issued in the same tick in one write. Default true: more throughput under many
   * concurrent jobs, at the price of a tick of delay per command, which shows in the tail latency
   * (the budget's reserve and settle use a connection without it).
   */
  autoPipelining?: boolean;
  /**
   * Receives the connection's errors (it reconnects by itself). Without a listener ioredis prints
   * each one as a multi-line "Unhandled error event". @defaultValue none
   */
  onError?: (err: Error) => void;
}

/** The least a logger must do for logRedisErrors. */
export interface WarnLogger {
  warn(fields: object, msg: string): void;
}

/**
 * An onError that logs one line per `intervalMs` (with how many errors it left out), so a Redis
 * outage shows in the logs without flooding them with one line per reconnect attempt.
 * @param intervalMs milliseconds between two logged errors; default 10000
 */
export function logRedisErrors(log: WarnLogger, connection: string, intervalMs = 10_000, now: () => number = Date.now): (err: Error) => void {
  let lastAt = -Infinity;
  let skipped = 0;
  return (err) => {
    const at = now();
    if (at - lastAt < intervalMs) {
      skipped++;
      return;
    }
    log.warn({ event: 'redis_connection_error', connection, err: err.message, skipped }, `Redis connection ${connection}: ${err.message}`);
    lastAt = at;
    skipped = 0;
  };
}

/**
 * Opens an ioredis connection. BullMQ workers and blocking commands need
 * `maxRetriesPerRequest: null` (PITFALLS), so every connection uses it: a command then waits for
 * Redis to come back instead of failing a job mid-flight.
 */
export function createRedis(url: string, name = 'llm-gateway', options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name, enableAutoPipelining: options.autoPipelining ?? true });
  if (options.onError) redis.on('error', options.onError);
  return redis;
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
