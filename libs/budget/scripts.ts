/** Loading of the budget's Lua scripts (scripts/*.lua) and parsing of their replies. */
import { readFileSync } from 'node:fs';
import type { RedisClient } from '../redis/client.ts';
import type { BudgetThresholdEvent } from './alerts.ts';

export type Script = (...args: Array<string | number>) => Promise<unknown>;
export interface BudgetCommands {
  gatewayBudgetReserve: Script;
  gatewayBudgetSettle: Script;
  gatewayBudgetRelease: Script;
  gatewayBudgetCharge: Script;
  gatewayBudgetReap: Script;
  gatewayBudgetSeed: Script;
}

/** Command name, file, key count, and whether the shared prelude (scripts/prelude.lua) goes first. */
const SCRIPTS: Array<[keyof BudgetCommands, string, number, boolean]> = [
  ['gatewayBudgetReserve', 'reserve-5.lua', 5, false],
  ['gatewayBudgetSettle', 'settle-4.lua', 4, true],
  ['gatewayBudgetRelease', 'release-3.lua', 3, true],
  ['gatewayBudgetCharge', 'charge-4.lua', 4, true],
  ['gatewayBudgetReap', 'reap-2.lua', 2, true],
  ['gatewayBudgetSeed', 'seed-2.lua', 2, false],
];

/** Defines the budget's commands on `redis` once (ioredis defineCommand); the prelude goes first where marked. */
export function defineScripts(redis: RedisClient): BudgetCommands {
  const read = (file: string) => readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8');
  for (const [name, file, numberOfKeys, prelude] of SCRIPTS) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua: prelude ? `${read('prelude.lua')}\n${read(file)}` : read(file) });
  }
  return redis as unknown as BudgetCommands;
}

/** Thresholds from a script's flat reply tail: window, period, fraction, window, ... */
export function parseCrossed(raw: unknown[], from: number): BudgetThresholdEvent[] {
  const crossed: BudgetThresholdEvent[] = [];
  for (let i = from; i + 2 < raw.length; i += 3) {
    crossed.push({ window: raw[i] === 'day' ? 'day' : 'month', period: String(raw[i + 1]), threshold: Number(raw[i + 2]) });
  }
  return crossed;
}
