import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ConfigHolder, type ConfigLogger } from '../../libs/config/watch.ts';
import { tempConfig, type TempConfig } from '../../libs/config/tempConfig.ts';
import { RedisConfigStore } from '../../libs/config/sync/redisStore.ts';
import { startConfigSync, type ConfigSync } from '../../libs/config/sync/configSync.ts';
import { configHash } from '../../libs/config/sync/version.ts';
import { redisKit } from '../helpers/redisKit.ts';

const kit = redisKit('config-sync');
const opened: { dirs: TempConfig[]; syncs: ConfigSync[]; holders: ConfigHolder[] } = { dirs: [], syncs: [], holders: [] };

afterEach(async () => {
  for (const s of opened.syncs) s.close();
  for (const h of opened.holders) h.close();
  for (const d of opened.dirs) d.cleanup();
  opened.dirs = [];
  opened.syncs = [];
  opened.holders = [];
});
afterAll(() => kit.cleanup());

function recordingLog(): ConfigLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, error: (_o, msg) => errors.push(msg) };
}

/** One "process": its own CONFIG_DIR copy, holder, connection and sync; polling is driven by the test. */
async function processOn(prefix: string, name: string) {
  const dir = tempConfig();
  opened.dirs.push(dir);
  const log = recordingLog();
  const holder = new ConfigHolder(dir.dir, log);
  opened.holders.push(holder);
  const store = new RedisConfigStore(kit.connect(), prefix);
  const sync = await startConfigSync({ holder, store, log, processName: name, pollMs: 60_000 });
  opened.syncs.push(sync);
  return { dir, log, holder, store, sync };
}

describe('config sync through Redis', () => {
  test('an edit on one host is published and adopted by another; a stale copy never pushes back', async () => {
    const prefix = kit.freshPrefix();
    const a = await processOn(prefix, 'api');
    const b = await processOn(prefix, 'worker');
    // Same files everywhere: one publication, both run it as version 1.
    expect(a.holder.version()).toEqual({ number: 1, hash: configHash(a.holder.files()) });
    expect(b.holder.version()).toEqual(a.holder.version());

    a.dir.edit('rate_limits.json', (j) => (j.budget.monthly_usd = 7000));
    expect(a.holder.reload('watch')).toEqual({ ok: true, changed: true });
    await a.sync.poll(); // waits for the publication queued by the change
    expect(a.holder.version().number).toBe(2);
    await b.sync.poll();
    expect(b.holder.current().rateLimits.budget.monthly_usd).toBe(7000);
    expect(b.holder.version()).toEqual(a.holder.version());

    // B's own copy still says 5000: a watch event on it must not revert the cluster.
    expect(b.holder.reload('watch')).toEqual({ ok: true, changed: false });
    await b.sync.poll();
    expect((await a.store.head())?.number).toBe(2);
    expect(b.holder.current().rateLimits.budget.monthly_usd).toBe(7000);
  });

  test('an invalid published config is refused and logged; the running one stays', async () => {
    const prefix = kit.freshPrefix();
    const a = await processOn(prefix, 'worker');
    const before = a.holder.current();
    const files = { ...a.holder.files(), 'rate_limits.json': '{"budget": {"monthly_usd": -1}}' };
    await a.store.publish(files, configHash(files), { floor: 0, source: 'test' });
    await a.sync.poll();
    expect(a.holder.current()).toBe(before);
    expect(a.holder.version().number).toBe(1);
    expect(a.log.errors.join('\n')).toMatch(/version refused.*rate_limits\.json/);
  });

  test('the operator path validates before publishing; Redis losing the document keeps the numbers increasing', async () => {
    const prefix = kit.freshPrefix();
    const a = await processOn(prefix, 'api');
    const bad = { ...a.holder.files(), 'alerts.json': '{' };
    await expect(a.sync.publish(bad, 'operator')).rejects.toMatchObject({ code: 'invalid_config', status: 400 });
    expect((await a.store.head())?.number).toBe(1);

    const good = { ...a.holder.files(), 'rate_limits.json': a.holder.files()['rate_limits.json']!.replace('5000', '6000') };
    const v = await a.sync.publish(good, 'operator');
    expect(v.number).toBe(2);
    expect(a.holder.current().rateLimits.budget.monthly_usd).toBe(6000);

    const redis = kit.connect();
    await redis.del(a.store.key);
    await a.sync.poll();
    expect(await a.store.head()).toEqual(v);
  });
});
