/**
 * The Redis the gateway needs keeps its data across a restart and never evicts a key: queued jobs,
 * spend counters and Idempotency-Keys live only there. Checked once at start, loudly.
 */
import type { Redis } from 'ioredis';
import { createRedis, withDeadline } from './connection.ts';
import { mastersOf, whenReady, type RedisTarget } from './client.ts';

/** The CONFIG values the check reads; null when Redis would not say (CONFIG disabled or renamed). */
export interface RedisPersistenceConfig {
  appendonly: string | null;
  appendfsync: string | null;
  save: string | null;
  maxmemoryPolicy: string | null;
}

/** What the start-up check concludes: nothing to say, a warning, or that it could not check. */
export type PersistenceVerdict =
  | { kind: 'ok' }
  | { kind: 'unchecked'; reason: string }
  | { kind: 'warn'; problems: string[]; loses: string };

// What the worker cannot rebuild from the result store (see the README's Redis section).
const LOSES = 'webhook delivery state, rate-limit windows, circuit breaker states, open budget holds (a job running at the loss runs again) and the response cache; queued jobs, spend and Idempotency-Keys are rebuilt from the result store';

/** The verdict on a Redis configured as `c`. Pure. */
export function judgePersistence(c: RedisPersistenceConfig): PersistenceVerdict {
  if (c.appendonly === null && c.save === null && c.maxmemoryPolicy === null) {
    return { kind: 'unchecked', reason: 'CONFIG GET is not allowed (disabled or renamed)' };
  }
  const problems: string[] = [];
  const aof = c.appendonly === 'yes';
  const rdb = c.save !== null && c.save.trim() !== '';
  if (c.appendonly !== null && c.save !== null && !aof && !rdb) {
    problems.push(`persistence is off (appendonly no, save ""): a restart loses ${LOSES}`);
  } else if (c.appendonly !== null && !aof) {
    problems.push(`AOF is off (appendonly no): a crash loses everything written since the last RDB snapshot (${LOSES})`);
  } else if (aof && c.appendfsync === 'no') {
    problems.push('appendfsync no: a host crash can lose an unbounded tail of writes; use appendfsync everysec');
  }
  if (c.maxmemoryPolicy !== null && c.maxmemoryPolicy !== 'noeviction') {
    problems.push(`maxmemory-policy ${c.maxmemoryPolicy} can evict keys under memory pressure, silently dropping ${LOSES}; use noeviction`);
  }
  return problems.length === 0 ? { kind: 'ok' } : { kind: 'warn', problems, loses: LOSES };
}

/** One CONFIG GET value, or null when Redis refuses CONFIG or does not know the parameter. */
async function configValue(redis: Redis, name: string): Promise<string | null> {
  try {
    const reply = (await redis.config('GET', name)) as unknown as string[];
    return reply[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The verdict on a cluster whose masters, named by `host:port`, are configured as given: each
 * master's problems, prefixed with its name; unchecked only when no master could be read. Pure.
 */
export function judgeMasters(masters: Array<[name: string, config: RedisPersistenceConfig]>): PersistenceVerdict {
  const verdicts = masters.map(([name, c]) => [name, judgePersistence(c)] as const);
  const problems = verdicts.flatMap(([name, v]) => (v.kind === 'warn' ? v.problems.map((p) => `${name}: ${p}`) : []));
  if (problems.length > 0) return { kind: 'warn', problems, loses: LOSES };
  const unchecked = verdicts.find(([, v]) => v.kind === 'unchecked');
  return unchecked && verdicts.every(([, v]) => v.kind === 'unchecked') ? unchecked[1] : { kind: 'ok' };
}

/** Reads the persistence and eviction settings of one server (never throws). */
export async function readPersistenceConfig(redis: Redis): Promise<RedisPersistenceConfig> {
  const [appendonly = null, appendfsync = null, save = null, maxmemoryPolicy = null] = await Promise.all(
    ['appendonly', 'appendfsync', 'save', 'maxmemory-policy'].map((name) => configValue(redis, name)),
  );
  return { appendonly, appendfsync, save, maxmemoryPolicy };
}

/** The least a logger must do for logPersistenceVerdict (pino's does). */
export interface VerdictLogger {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
}

/** Logs the verdict as one JSON line: a loud `redis_persistence_unsafe` warning, or that it could not check. */
export function logPersistenceVerdict(log: VerdictLogger, verdict: PersistenceVerdict): void {
  if (verdict.kind === 'warn') {
    log.warn(
      { event: 'redis_persistence_unsafe', problems: verdict.problems, loses: verdict.loses },
      `WARNING: this Redis can lose the gateway's data (${verdict.problems.join('; ')}). Run it with appendonly yes, appendfsync everysec and maxmemory-policy noeviction (see the README's Redis section).`,
    );
  } else if (verdict.kind === 'unchecked') {
    log.info({ event: 'redis_persistence_unchecked', reason: verdict.reason }, `Could not check Redis persistence and eviction: ${verdict.reason}.`);
  }
}

/**
 * Opens a short-lived connection to `target`, judges the persistence and eviction settings of its
 * server (of every master, on a cluster) and logs the verdict (see logPersistenceVerdict). Never
 * throws: a Redis that does not answer within `timeoutMs` (default 2000 ms) is logged as unchecked.
 */
export async function checkRedisPersistence(target: string | RedisTarget, log: VerdictLogger, timeoutMs = 2000): Promise<PersistenceVerdict> {
  const redis = createRedis(target, 'persistence-check', { commandTimeoutMs: timeoutMs });
  redis.on('error', () => undefined);
  try {
    const read = async () => {
      await whenReady(redis, timeoutMs);
      const masters = mastersOf(redis);
      const configs = await Promise.all(masters.map(async (m) => [`${m.options.host}:${m.options.port}`, await readPersistenceConfig(m)] as [string, RedisPersistenceConfig]));
      return masters.length === 1 && masters[0] === redis ? judgePersistence(configs[0]![1]) : judgeMasters(configs);
    };
    const verdict = await withDeadline(read(), timeoutMs * 2);
    logPersistenceVerdict(log, verdict);
    return verdict;
  } catch (e) {
    const verdict: PersistenceVerdict = { kind: 'unchecked', reason: e instanceof Error ? e.message : String(e) };
    logPersistenceVerdict(log, verdict);
    return verdict;
  } finally {
    redis.disconnect();
  }
}
