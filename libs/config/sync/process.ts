/** Config sync for a gateway process: started on the process's Redis connection once it is ready. */
import { once } from 'node:events';
import type { RedisClient } from '../../redis/client.ts';
import type { ConfigHolder, ConfigLogger } from '../watch.ts';
import { RedisConfigStore } from './redisStore.ts';
import { CONFIG_SYNC_POLL_MS, startConfigSync, type ConfigSync } from './configSync.ts';
import type { ConfigVersion } from './version.ts';

/** Milliseconds a starting process waits for its Redis connection before its first sync (it retries at each poll anyway). @defaultValue 3000 */
export const SYNC_READY_WAIT_MS = 3000;

/** Options for syncProcessConfig. */
export interface ProcessConfigSyncOptions {
  config: ConfigHolder;
  redis: RedisClient;
  /** The braced queue prefix, e.g. '{bull}'. */
  prefix: string;
  log: ConfigLogger;
  processName: string;
  /** Milliseconds between polls. @defaultValue CONFIG_SYNC_POLL_MS (500) */
  pollMs?: number;
}

/**
 * Starts config sync for a process: adopts the newest published config (or publishes its own when
 * none is), then follows every later publication. A fail-fast connection refuses commands before
 * it is ready, so the first sync waits for it (bounded).
 */
export async function syncProcessConfig(options: ProcessConfigSyncOptions): Promise<ConfigSync> {
  const { redis } = options;
  if (redis.status !== 'ready') {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), SYNC_READY_WAIT_MS);
    await once(redis, 'ready', { signal: ac.signal }).catch(() => undefined);
    clearTimeout(timer);
  }
  return startConfigSync({
    holder: options.config,
    store: new RedisConfigStore(redis, options.prefix),
    log: options.log,
    processName: options.processName,
    pollMs: options.pollMs ?? CONFIG_SYNC_POLL_MS,
  });
}

/** The running config's version as `/readyz` shows it: `{version, hash}`. */
export function readyConfigView(version: ConfigVersion): { version: number; hash: string } {
  return { version: version.number, hash: version.hash };
}
