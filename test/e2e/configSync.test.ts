import { afterAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { tempConfig, type TempConfig } from '../../libs/config/tempConfig.ts';
import { metricsPortOf } from '../../libs/devkit/workerMetrics.ts';

// One config everywhere: an API on one CONFIG_DIR copy and two workers on two others ("three hosts").
const ADMIN = 'admin-token-config-sync';
let gw: TestGateway | undefined;
const copies: TempConfig[] = [];
afterAll(async () => {
  await gw?.stop();
  for (const c of copies) c.cleanup();
});

interface Seen {
  version: number;
  hash: string;
}

async function readyConfig(url: string): Promise<Seen> {
  const body = (await (await fetch(url)).json()) as { config: Seen };
  return body.config;
}

async function monthlyLimit(g: TestGateway): Promise<number> {
  const res = await fetch(`${g.system.apiUrl}/v1/budget`, { headers: { authorization: `Bearer ${g.system.apiKey}` } });
  return ((await res.json()) as { month: { limit_usd: number } }).month.limit_usd;
}

/** Polls until every process runs a version other than `before` with the same hash everywhere, or `deadlineMs` passes. */
async function converge(urls: string[], isNew: (s: Seen) => boolean, deadlineMs: number): Promise<Seen[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const seen = await Promise.all(urls.map(readyConfig));
    if (seen.every(isNew) && new Set(seen.map((s) => `${s.version}/${s.hash}`)).size === 1) return seen;
    if (Date.now() > until) return seen;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('config sync across processes with their own CONFIG_DIR', () => {
  test('a budget edit in one worker\'s copy reaches the API and the other worker within 2 s; an invalid edit is refused everywhere', async () => {
    gw = await startTestGateway({ workers: 0, env: { GATEWAY_ADMIN_TOKEN: ADMIN, CONFIG_SYNC_POLL_MS: '500' } });
    const [b, c] = [tempConfig(), tempConfig()];
    copies.push(b, c);
    const w1 = await gw.system.addWorkerWith({ CONFIG_DIR: b.dir });
    const w2 = await gw.system.addWorkerWith({ CONFIG_DIR: c.dir });
    const urls = [`${gw.system.apiUrl}/readyz`, `http://127.0.0.1:${metricsPortOf(w1)}/readyz`, `http://127.0.0.1:${metricsPortOf(w2)}/readyz`];
    const start = await converge(urls, (s) => s.version >= 1, 5000);
    expect(new Set(start.map((s) => s.version)).size).toBe(1);
    const v0 = start[0]!;
    expect(await monthlyLimit(gw)).toBe(5000);

    // Edit worker 1's copy only.
    const editedAt = Date.now();
    b.edit('rate_limits.json', (j) => (j.budget.monthly_usd = 7777));
    const after = await converge(urls, (s) => s.version > v0.version, 2000);
    const elapsed = Date.now() - editedAt;
    expect(after.map((s) => s.version > v0.version)).toEqual([true, true, true]);
    expect(new Set(after.map((s) => s.hash)).size).toBe(1);
    expect(await monthlyLimit(gw)).toBe(7777);
    expect(elapsed).toBeLessThan(2000);
    console.info(`config sync: an edit on one copy reached 3 processes in ${elapsed} ms`);

    // Each process's metric names the same version.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPortOf(w2)}/metrics`)).text();
    expect(metrics).toContain(`gateway_config_version_info{version="${after[0]!.version}",hash="${after[0]!.hash}"} 1`);

    // An operator publishes through the API; a viewer may not.
    const put = (token: string, body: unknown) =>
      fetch(`${gw!.system.apiUrl}/admin/config`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const rateLimits = JSON.parse((await (await fetch(`${gw.system.apiUrl}/admin/config`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { files: Record<string, string> }).files['rate_limits.json']!) as { budget: { monthly_usd: number } };
    const invalid = await put(ADMIN, { files: { 'rate_limits.json': { ...rateLimits, budget: { ...rateLimits.budget, monthly_usd: -1 } } } });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('invalid_config');
    const published = await put(ADMIN, { files: { 'rate_limits.json': { ...rateLimits, budget: { ...rateLimits.budget, monthly_usd: 6000 } } } });
    expect(published.status).toBe(200);
    const v2 = (await published.json()) as Seen;
    expect(v2.version).toBeGreaterThan(after[0]!.version);
    const third = await converge(urls, (s) => s.version === v2.version, 2000);
    expect(third.map((s) => s.hash)).toEqual([v2.hash, v2.hash, v2.hash]);
    expect(await monthlyLimit(gw)).toBe(6000);

    // An invalid edit of a copy is refused where it was made and never published: every process stays.
    c.write('rate_limits.json', '{"budget": ');
    await new Promise((r) => setTimeout(r, 1200));
    expect((await Promise.all(urls.map(readyConfig))).map((s) => s.version)).toEqual([v2.version, v2.version, v2.version]);
    expect(w2.output()).toMatch(/config reload refused/);
  });
});
