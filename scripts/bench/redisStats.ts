/**
 * Redis commands per unit of work, from INFO commandstats before and after a phase. Redis is
 * shared (other processes' commands count too), so read it as an upper bound on a quiet machine.
 */
import type { Redis } from 'ioredis';

type Stats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: Redis): Promise<Stats> {
  const out: Stats = new Map();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** Commands per unit of work since the snapshot, and the line that shows them. */
export interface RedisFigures {
  /** All commands per unit, Lua-internal calls included (INFO is left out: the meter sends it). */
  perUnit: number;
  line: string;
}

/** Takes a snapshot now; `stop(units)` answers one line on the commands run since, `measure(units)` the figures too. */
export async function redisMeter(redis: Redis): Promise<{ stop: (units: number, unit?: string) => Promise<string>; measure: (units: number, unit?: string) => Promise<RedisFigures> }> {
  const before = await commandStats(redis);
  const measure = async (units: number, unit = 'job'): Promise<RedisFigures> => {
    const after = await commandStats(redis);
    const delta: Array<[string, number, number]> = [];
    for (const [name, a] of after) {
      const b = before.get(name) ?? { calls: 0, usec: 0 };
      if (a.calls > b.calls && name !== 'info') delta.push([name, a.calls - b.calls, a.usec - b.usec]);
    }
    delta.sort((x, y) => y[1] - x[1]);
    const calls = delta.reduce((s, d) => s + d[1], 0);
    const usec = delta.reduce((s, d) => s + d[2], 0);
    const top = delta.slice(0, 6).map(([n, c]) => `${n} ${(c / units).toFixed(1)}`).join(', ');
    return {
      perUnit: calls / units,
      line: `Redis commands per ${unit} (Lua-internal calls included): ${(calls / units).toFixed(1)} (${top}), ${(usec / units).toFixed(0)} us of Redis time (shared server: upper bound)`,
    };
  };
  return { stop: async (units, unit) => (await measure(units, unit)).line, measure };
}
