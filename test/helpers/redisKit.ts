import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '../../libs/redis/connection.ts';
import { unlinkPrefix } from '../../libs/devkit/cleanup.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Connections and key prefixes for one integration test file against the real Redis: every
 * prefix is fresh (a braced hash tag, as in production), and `cleanup()` removes their keys and
 * closes the connections.
 */
export function redisKit(name: string): { connect(): Redis; freshPrefix(): string; cleanup(): Promise<void> } {
  const conns: Redis[] = [];
  const prefixes: string[] = [];
  return {
    connect() {
      const redis = createRedis(REDIS_URL, `test-${name}`);
      conns.push(redis);
      return redis;
    },
    freshPrefix() {
      const prefix = `{test-${name}-${randomUUID()}}`;
      prefixes.push(prefix);
      return prefix;
    },
    async cleanup() {
      const redis = createRedis(REDIS_URL, `test-${name}-cleanup`);
      for (const prefix of prefixes) await unlinkPrefix(redis, prefix);
      await Promise.all([...conns, redis].map((c) => c.quit()));
    },
  };
}

/** Deterministic pseudo-random integers in [0, n), from a seed. */
export function seededInts(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}
