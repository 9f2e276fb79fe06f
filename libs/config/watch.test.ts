import { afterEach, describe, expect, test } from 'vitest';
import { ConfigHolder } from './watch.ts';
import type { ConfigLogger, ConfigReloadEvent } from './watch.ts';
import { tempConfig } from './tempConfig.ts';
import type { TempConfig } from './tempConfig.ts';
import type { GatewayConfig } from './types.ts';

let tmp: TempConfig | undefined;
let holder: ConfigHolder | undefined;
afterEach(() => {
  holder?.close();
  tmp?.cleanup();
  holder = tmp = undefined;
});

function recordingLogger(): ConfigLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, error: (_obj, msg) => errors.push(msg) };
}

describe('ConfigHolder', () => {
  test('keeps the running config when a reload sees an invalid file', () => {
    tmp = tempConfig();
    const log = recordingLogger();
    holder = new ConfigHolder(tmp.dir, log);
    const before = holder.current();
    tmp.edit('rate_limits.json', (j) => (j.budget.monthly_usd = -1));
    const result = holder.reload();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('invalid_config');
    expect(holder.current()).toBe(before);
    expect(log.errors[0]).toMatch(/refused.*rate_limits\.json/);
  });

  test('refuses at reload an override whose match is misspelt, naming file and path', () => {
    tmp = tempConfig();
    const log = recordingLogger();
    holder = new ConfigHolder(tmp.dir, log);
    const before = holder.current();
    for (const match of [{ sectr: 'healthcare' }, { sector: 'Healthcare' }]) {
      tmp.edit('ab_test_config.json', (j) => (j.experiments.career_model_ab.overrides[0].match = match));
      const result = holder.reload();
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.details[0]?.path).toBe(`ab_test_config.json#/experiments/career_model_ab/overrides/0/match/${Object.keys(match)[0]}`);
      expect(holder.current()).toBe(before);
    }
    expect(log.errors).toHaveLength(2);
  });

  test('picks up a valid change and tells listeners', () => {
    tmp = tempConfig();
    holder = new ConfigHolder(tmp.dir);
    const seen: GatewayConfig[] = [];
    holder.watch((c) => seen.push(c));
    holder.close();
    expect(holder.reload()).toEqual({ ok: true, changed: false });
    tmp.edit('rate_limits.json', (j) => (j.budget.monthly_usd = 7000));
    expect(holder.reload()).toEqual({ ok: true, changed: true });
    expect(holder.current().rateLimits.budget.monthly_usd).toBe(7000);
    expect(seen).toHaveLength(1);
  });

  test('tells reload observers what was applied and what was refused', () => {
    tmp = tempConfig();
    holder = new ConfigHolder(tmp.dir);
    const events: ConfigReloadEvent[] = [];
    holder.onReload((e) => events.push(e));
    holder.reload();
    expect(events).toHaveLength(0);
    tmp.edit('rate_limits.json', (j) => (j.budget.monthly_usd = 7000));
    holder.reload();
    tmp.edit('rate_limits.json', (j) => (j.budget.monthly_usd = -1));
    holder.reload();
    expect(events.map((e) => e.applied)).toEqual([true, false]);
    const [applied, refused] = events;
    if (applied?.applied) expect([applied.previous.rateLimits.budget.monthly_usd, applied.config.rateLimits.budget.monthly_usd]).toEqual([5000, 7000]);
    if (refused && !refused.applied) expect(refused.error.code).toBe('invalid_config');
  });

  test('throws at start when the config is invalid', () => {
    tmp = tempConfig();
    tmp.write('provider_settings.json', '{');
    expect(() => new ConfigHolder(tmp?.dir ?? '')).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });

  test('watch() reloads after a file in features/ changes', async () => {
    tmp = tempConfig();
    holder = new ConfigHolder(tmp.dir, undefined, { debounceMs: 20 });
    holder.watch();
    tmp.edit('features/career_path_navigator.json', (j) => (j.output.temperature = 0.9));
    const deadline = Date.now() + 5000;
    while (holder.current().features['career_path_navigator']?.output.temperature !== 0.9 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(holder.current().features['career_path_navigator']?.output.temperature).toBe(0.9);
  });
});
