import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import { GatewayClient } from '../../libs/client/gatewayClient.ts';
import { loadConfig } from '../../libs/config/load.ts';
import type { TempConfig } from '../../libs/config/tempConfig.ts';
import { queuePrefix, type LlmJobData } from '../../libs/queue/jobs.ts';
import { planJob } from '../../libs/pipeline/llmJob.ts';
import { familyTag } from '../../libs/redis/keys.ts';
import { eventually, startTestGateway, type TestGateway, fastBatchLane } from '../helpers/gateway.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Job {
  status: string;
  served_by: string;
  degraded: boolean;
  result: { text: string } | null;
  provider_attempts: Array<{ provider: string; status: number }>;
}

/** Short timeouts and retries, so an outage plays out in seconds; a fast batch lane (the generic answers ride it). */
function fastResilience(config: TempConfig): void {
  fastBatchLane(config);
  config.edit('provider_settings.json', (json) => {
    for (const p of Object.values(json.providers) as Array<Record<string, unknown>>) {
      p.timeout_ms = 1000;
      p.retry = { max_retries: 1, initial_delay_ms: 50, max_delay_ms: 200, max_retry_after_ms: 1000 };
    }
  });
}

/** A profile of one person in the healthcare / bachelor / 3-5 years category, marked with `tag` everywhere personal. */
function profile(tag: string): Record<string, unknown> {
  return {
    current_role: `Astronaut ${tag}`,
    degree: { level: 'bachelor', field: `Xenobiology ${tag}` },
    years_experience: 4,
    skills: [`${tag} navigation`, `${tag} diplomacy`],
    target_sector: 'Healthcare',
    goals: `Become chief of the ${tag} station`,
    location: `${tag} City`,
  };
}

let gw: TestGateway | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await gw?.stop();
  redis?.disconnect();
  gw = redis = undefined;
});

describe('no answer crosses users or clients', () => {
  test("with both providers down, others of A's category and another client with A's input never see A's plan", async () => {
    const keys = { acme: `gk_${randomBytes(18).toString('base64url')}`, globex: `gk_${randomBytes(18).toString('base64url')}` };
    gw = await startTestGateway({
      editConfig: fastResilience,
      env: { GATEWAY_API_KEYS: `acme:${keys.acme},globex:${keys.globex}` },
    });
    const acme = new GatewayClient(gw.system.apiUrl, keys.acme);
    const globex = new GatewayClient(gw.system.apiUrl, keys.globex);
    const cfg = loadConfig(gw.config.dir);
    const planFor = (clientId: string, input: Record<string, unknown>, userId: string) =>
      planJob(cfg, 'probe', 1, { clientId, feature: 'career_path_navigator', input, userId } as LlmJobData)!;

    // User A's own plan, paid for: the simulator writes A's role and skills into it.
    const secret = `Zq${randomBytes(4).toString('hex')}`;
    const a = { feature: 'career_path_navigator', input: profile(secret), user_id: 'user-a' };
    const [answerA] = [...(await acme.waitForAll([await acme.submit(a)], { timeoutMs: 30_000 })).values()] as unknown as Job[];
    expect(answerA).toMatchObject({ status: 'completed', served_by: 'provider' });
    expect(answerA!.result!.text).toContain(secret);

    // A's paid answer asked for the generic answer of its category; wait until it is written.
    const planA = planFor('acme', a.input, a.user_id);
    redis = new Redis(REDIS_URL);
    const genericKey = `${familyTag(queuePrefix(gw.system.queuePrefix), `cache:${planA.categoryKey}`)}:entry`;
    await eventually(async () => (await redis!.exists(genericKey)) === 1, 20_000, 'the generic category answer');
    expect((await redis.get(genericKey))!).not.toContain(secret);

    await gw.simulator.setKnobs({ openai: { down: true }, anthropic: { down: true } });
    // Users B-F of A's category, some in A's arm of the experiment (the generic answer is theirs),
    // some in the other (no generic answer there yet: the degraded answer).
    const others: Array<{ client: GatewayClient; body: Record<string, unknown> }> = [];
    const sameArm: string[] = [];
    for (let n = 0; others.length < 5; n++) {
      const userId = `user-${n}`;
      const input = profile(`Other${n}`);
      const arm = planFor('acme', input, userId).variant.name;
      if (arm === planA.variant.name && sameArm.length >= 3) continue;
      if (arm === planA.variant.name) sameArm.push(userId);
      others.push({ client: acme, body: { feature: 'career_path_navigator', input, user_id: userId } });
    }
    // Another client sends A's exact input for A's user id: its cache is its own.
    others.push({ client: globex, body: a });
    const ids = await Promise.all(others.map((o) => o.client.submit(o.body)));
    const jobs = await Promise.all(
      others.map(async (o, i) => (await o.client.waitForAll([ids[i]!], { timeoutMs: 60_000 })).get(ids[i]!) as unknown as Job),
    );

    for (const job of jobs) {
      expect(job.status).toBe('completed');
      expect(['category_cache', 'degraded']).toContain(job.served_by);
      expect(job.degraded).toBe(true);
      // Not a word of A's profile.
      expect(job.result!.text).not.toContain(secret);
      expect(job.result!.text).not.toMatch(/Astronaut|Xenobiology|station/);
      // Why a fallback served: the failed calls stay on the job.
      expect(job.provider_attempts.length).toBeGreaterThan(0);
    }
    const served = (userId: string) => jobs[others.findIndex((o) => o.body.user_id === userId && o.client === acme)]!.served_by;
    for (const userId of sameArm) expect(served(userId)).toBe('category_cache');
    expect(jobs.at(-1)!.served_by).toBe('degraded');

    // The generic answer was paid for like any job: one call for A, one batch item for its category.
    const calls = await gw.simulator.calls();
    expect(Object.keys(calls.by_job).filter((id) => id.startsWith('category-'))).toEqual([]);
    const batch = await gw.simulator.batchCalls();
    expect(batch.items_submitted.openai + batch.items_submitted.anthropic).toBe(1);
    const budget = (await acme.request<{ month: { spent_usd: number; reserved_usd: number } }>('GET', '/v1/budget')).body;
    expect(budget.month.spent_usd).toBeGreaterThan((answerA as unknown as { cost_usd: number }).cost_usd);
    expect(budget.month.reserved_usd).toBe(0);
  }, 120_000);
});
