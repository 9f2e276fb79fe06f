/**
 * Alert states in Redis: one hash, a field per alert holding its encoded AlertState, written only
 * by compareAndSet-1.lua. Key: {<prefix>:alerts}:state.
 */
import { readFileSync } from 'node:fs';
import type { RedisClient } from '../redis/client.ts';
import { alertsTag } from './signals.ts';
import { decodeState, type AlertState } from './transitions.ts';

const CAS_LUA = readFileSync(new URL('./scripts/compareAndSet-1.lua', import.meta.url), 'utf8');

/** The key of the alert states hash. */
export function alertStatesKey(prefix: string): string {
  return `${alertsTag(prefix)}:state`;
}

/** Every stored alert state, raw (for compare-and-set) and decoded. */
export async function readStates(redis: RedisClient, prefix: string): Promise<Map<string, { raw: string; state: AlertState | undefined }>> {
  const all = await redis.hgetall(alertStatesKey(prefix));
  return new Map(Object.entries(all).map(([id, raw]) => [id, { raw, state: decodeState(raw) }]));
}

/**
 * Whether each known alert is firing (true) or not (false), by alert id, for the gateway_alert_state
 * gauge. `prefix` is the queue prefix, braced or not ('bull' or '{bull}').
 */
export async function readAlertStates(redis: RedisClient, prefix: string): Promise<Record<string, boolean>> {
  const states = await readStates(redis, prefix);
  return Object.fromEntries([...states].map(([id, { state }]) => [id, state?.firing ?? false]));
}

/** Sets alert `id` to `next` if its stored raw state is still `expectedRaw` ('' for absent); true when set. */
export async function compareAndSetState(redis: RedisClient, prefix: string, id: string, expectedRaw: string, next: string): Promise<boolean> {
  // EVAL, not a command defined on first use: ioredis's auto-pipeline already open on a shared
  // connection lacks a command defined after it, and this runs a few times per evaluation at most.
  return (await redis.eval(CAS_LUA, 1, alertStatesKey(prefix), id, expectedRaw, next)) === 1;
}
