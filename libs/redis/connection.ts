import { Cluster, Redis, type RedisOptions as IoRedisOptions } from 'ioredis';
import { asTarget, describeTarget, nodeUrl, type RedisClient, type RedisTarget } from './client.ts';
import { GatewayError, isGatewayError } from '../errors/index.ts';
import { readRedisTarget } from '../config/env.ts';
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
 * Opens an ioredis connection: to one server for a URL, or a cluster client for a RedisTarget with
 * `clusterNodes` (same options on every node). BullMQ workers and blocking commands need
 * `maxRetriesPerRequest: null`: a command then waits for Redis to come back instead of failing a
 * job mid-flight. With `commandTimeoutMs` it fails fast instead (BullMQ's Queue accepts that).
 */
export function createRedis(url: string, name?: string, options?: RedisOptions): Redis;
export function createRedis(target: string | RedisTarget, name?: string, options?: RedisOptions): RedisClient;
export function createRedis(target: string | RedisTarget, name = 'llm-gateway', options: RedisOptions = {}): RedisClient {
  const failFast = options.commandTimeoutMs !== undefined;
  const perCommand: IoRedisOptions = failFast
    ? { commandTimeout: options.commandTimeoutMs, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false }
    : { maxRetriesPerRequest: null };
  const { url, clusterNodes } = asTarget(target);
  const redis: RedisClient = clusterNodes
    ? new Cluster(clusterNodes, {
        redisOptions: { ...perCommand, ...credentialsOf(url), connectionName: name },
        enableOfflineQueue: !failFast,
        enableAutoPipelining: options.autoPipelining ?? true,
        // Keep looking for the cluster while none of its nodes answers, as a single connection keeps reconnecting.
        clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        // A failover takes the cluster a moment: resend a redirected command after a short pause instead of bouncing.
        retryDelayOnMoved: 50,
      })
    : new Redis(url, { ...perCommand, ...(failFast ? { enableOfflineQueue: false } : {}), connectionName: name, enableAutoPipelining: options.autoPipelining ?? true });
  if (options.log) watchRedisOutages(redis, options.log, name, {
      probeIntervalMs: options.probe === false ? 0 : 1000,
      probeTimeoutMs: options.commandTimeoutMs ?? FAIL_FAST_COMMAND_TIMEOUT_MS,
    });
  return redis;
}

/** The user, password and TLS of a `redis://` or `rediss://` URL, for each node of a cluster. */
function credentialsOf(url: string): Pick<IoRedisOptions, 'username' | 'password' | 'tls'> {
  const u = new URL(url);
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

// ioredis's own words for a command that Redis did not answer or could not be sent; the last ones
// are a cluster's (no slot owner reachable, or mid-failover) and pass like a single server's outage.
// MOVED and ASK reach us only when ioredis could not follow the redirection itself (a transaction
// queued against a node that just lost the slot): the node executed nothing, and ioredis has
// refreshed its slot map, so a retry goes to the new owner.
const UNAVAILABLE = /^(Command timed out|Stream isn't writeable|Connection is closed|Reached the max retries per request limit|Cluster isn't ready|CLUSTERDOWN|TRYAGAIN|MOVED \d+ |ASK \d+ |Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available)/;
// A node mid-failover or restarting refused to write (nothing was written); a Lua script that met
// it wraps the answer in its own error ("ERR Error running script ... -READONLY ..."), so look anywhere.
const NODE_NOT_WRITABLE = /(^|[\s:-])(READONLY You can't write|MASTERDOWN|LOADING Redis is loading|CLUSTERDOWN|TRYAGAIN)/;

/** Whether `err` says Redis did not answer in time or could not be reached (as opposed to refusing a command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || UNAVAILABLE.test(err.message) || NODE_NOT_WRITABLE.test(err.message) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/.test(err.message);
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
 * Answers null when Redis answers PING within `timeoutMs` (default 2000 ms), else a GatewayError
 * `redis_auth_failed` (wrong password or user) or `redis_unreachable` whose message is one line
 * that never shows the URL's credentials. For a cluster, one listed node answering is enough (the
 * client finds the others from it). Never throws and never retries, so callers can fail fast with
 * one clear line.
 */
export async function redisProblem(target: string | RedisTarget, timeoutMs = 2000): Promise<GatewayError | null> {
  const { url, clusterNodes } = asTarget(target);
  const problems = [];
  for (const nodeAt of clusterNodes ? clusterNodes.map((node) => nodeUrl(url, node)) : [url]) {
    const problem = await serverProblem(nodeAt, timeoutMs);
    if (problem === null) return null;
    if (problem.auth) return new GatewayError('redis_auth_failed', redisAuthFailedMessage(nodeAt, problem.reason), { status: 503 });
    problems.push(problem.reason);
  }
  return new GatewayError('redis_unreachable', clusterNodes
    ? `No node of ${describeTarget({ url, clusterNodes })} answers (${redactSecrets(problems.join('; '), urlSecrets(url))}). Check REDIS_CLUSTER_NODES and that the cluster is up.`
    : redisUnreachableMessage(url, problems[0] ?? ''), { status: 503 });
}

/** Why the server at `url` did not answer PING: refused credentials or not reachable; null when it did. */
async function serverProblem(url: string, timeoutMs: number): Promise<{ auth: boolean; reason: string } | null> {
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
    return { auth: /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(reason), reason };
  } finally {
    client.disconnect();
  }
}

/** Answers null when Redis answers PING within `timeoutMs` (default 2000 ms), else the one-line message to print; see redisProblem. */
export async function checkRedis(url: string | RedisTarget, timeoutMs = 2000): Promise<string | null> {
  return (await redisProblem(url, timeoutMs))?.message ?? null;
}

/**
 * Exits the process with the one-line message (code 1) unless Redis answers (see redisProblem);
 * `target` defaults to REDIS_URL and REDIS_CLUSTER_NODES, whose mistakes also end in one line.
 * Resolves to the target it checked.
 */
export async function exitUnlessRedis(target?: string | RedisTarget): Promise<RedisTarget> {
  let problem: GatewayError | null;
  let checked: RedisTarget;
  try {
    checked = asTarget(target ?? readRedisTarget());
    problem = await redisProblem(checked);
  } catch (e) {
    if (!isGatewayError(e)) throw e;
    problem = e;
  }
  if (problem) {
    console.error(`${problem.code}: ${problem.message}`);
    process.exit(1);
  }
  return checked!;
}
