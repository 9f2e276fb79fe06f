import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { SHIPPED_CONFIG_DIR } from '../config/tempConfig.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import { planJob } from './llmJob.ts';
import { CATEGORY_ANSWER_KIND, CategoryAnswers, categoryJobFor, categoryOf, isCategoryJob, type CategoryJobRequest } from './categoryAnswer.ts';

const cfg = loadConfig(SHIPPED_CONFIG_DIR);
const DAY_MS = 86_400_000;

/** A user's request with a distinctive profile: none of these words may reach a category job. */
function userJob(clientId = 'acme', overrides: Record<string, unknown> = {}): LlmJobData {
  return {
    clientId,
    feature: 'career_path_navigator',
    input: {
      current_role: 'Astronaut Zorblax',
      degree: { level: 'bachelor', field: 'Xenobiology' },
      years_experience: 4,
      skills: ['zorblaxian navigation'],
      target_sector: 'Renewable Energy',
      goals: 'become the Zorblax chief',
      location: 'Zorblax City',
      ...overrides,
    },
    userId: 'user-zorblax',
    callbackUrl: 'https://example.com/hook',
    metadata: { crm_id: 'zorblax-42' },
    createdAt: '2026-12-01T00:00:00.000Z',
  };
}

const planOf = (data: LlmJobData, id = 'job-1') => {
  const plan = planJob(cfg, id, 1, data);
  if (!plan) throw new Error('no plan');
  return plan;
};

describe('categoryJobFor', () => {
  const data = userJob();
  const plan = planOf(data);
  const request = categoryJobFor(plan, data, 5 * DAY_MS)!;

  test('carries the category and nothing of the user', () => {
    expect(request.data).toMatchObject({ kind: CATEGORY_ANSWER_KIND, clientId: 'acme', feature: 'career_path_navigator', userId: null, callbackUrl: null, metadata: null, variant: plan.variant.name });
    expect(request.data.input).toEqual({ sector: 'renewable_energy', degree_level: 'bachelor', experience_band: '3-5' });
    expect(JSON.stringify(request).toLowerCase()).not.toContain('zorblax');
    expect(isCategoryJob(request.data)).toBe(true);
    expect(isCategoryJob(data)).toBe(false);
  });

  test('one job id per category key and freshness window, valid as a queue job id', () => {
    expect(request.id).toMatch(/^category-[A-Za-z0-9_-]+$/);
    // Another user of the same category asks for the same job.
    const other = userJob('acme', { current_role: 'Nurse', skills: ['triage'], goals: '' });
    expect(categoryJobFor(planOf({ ...other, userId: data.userId }), other, 5 * DAY_MS + 1000)!.id).toBe(request.id);
    // A week later (the configured ttl) it is a new job: the answer is renewed.
    expect(categoryJobFor(plan, data, 12 * DAY_MS)!.id).not.toBe(request.id);
    // Another client has its own.
    const globex = userJob('globex');
    expect(categoryJobFor(planOf(globex), globex, 5 * DAY_MS)!.id).not.toBe(request.id);
  });

  test('none for a category job itself, a feature without a category prompt, or with the cache off', () => {
    expect(categoryJobFor(plan, request.data, 5 * DAY_MS)).toBeNull();
    const { category_fallback: _dropped, ...feature } = plan.feature;
    expect(categoryJobFor({ ...plan, feature }, data, 5 * DAY_MS)).toBeNull();
    expect(categoryJobFor({ ...plan, feature: { ...plan.feature, cache: { ...plan.feature.cache, enabled: false } } }, data, 5 * DAY_MS)).toBeNull();
  });
});

describe('the plan of a category job', () => {
  const data = userJob();
  const userPlan = planOf(data);
  const request = categoryJobFor(userPlan, data, 0)!;
  const plan = planOf(request.data, request.id);

  test('writes under the key its users fall back to, with the same variant', () => {
    expect(plan.cacheKey).toBe(userPlan.categoryKey);
    expect(plan.promptVersion).toBe(`category:${userPlan.promptVersion}`);
    expect(plan.variant.name).toBe(userPlan.variant.name);
    expect(plan.cacheTtlSeconds).toBe(cfg.features.career_path_navigator!.category_fallback!.ttl_seconds);
  });

  test('prompts with the category alone', () => {
    expect(plan.system).toBe(cfg.features.career_path_navigator!.category_fallback!.system);
    expect(plan.user).toContain('renewable energy');
    expect(plan.user).toContain('bachelor');
    expect(plan.user).toContain('3-5');
    expect(`${plan.system}\n${plan.user}`.toLowerCase()).not.toMatch(/zorblax|astronaut|xenobiology/);
  });

  test('is refused for an unknown variant or an input that is not a category', () => {
    expect(planJob(cfg, 'x', 1, { ...request.data, variant: 'gone' })).toBeNull();
    expect(planJob(cfg, 'x', 1, { ...request.data, input: { sector: 'a' } })).toBeNull();
    expect(categoryOf({ sector: 'a', degree_level: 'b', experience_band: 3 })).toBeNull();
  });

  test('user plans are scoped per client: same input, other client, other keys', () => {
    const globex = planOf(userJob('globex'));
    expect(globex.cacheKey).not.toBe(userPlan.cacheKey);
    expect(globex.categoryKey).not.toBe(userPlan.categoryKey);
  });

  test('a shared cache serves every client of the feature', () => {
    const shared = structuredClone(cfg);
    shared.features.career_path_navigator!.cache.scope = 'shared';
    const a = planJob(shared, 'a', 1, userJob('acme'))!;
    const b = planJob(shared, 'b', 1, userJob('globex'))!;
    expect(a.cacheKey).toBe(b.cacheKey);
  });

  test('a feature name is looked up as an own key only', () => {
    expect(planJob(cfg, 'x', 1, { ...data, feature: 'constructor' })).toBeNull();
    expect(planJob(cfg, 'x', 1, { ...data, feature: '__proto__' })).toBeNull();
  });
});

describe('CategoryAnswers', () => {
  const request = (id: string, clientId = 'acme'): CategoryJobRequest => ({ id, data: userJob(clientId), dailyLimit: 2 });
  const always = async () => true;

  test('asks once per category while it remembers, then again', async () => {
    let now = 0;
    const added: string[] = [];
    const answers = new CategoryAnswers({ add: async (r) => added.push(r.id), admit: always }, { rememberMs: 1000, now: () => now });
    await answers.request(request('a'));
    await answers.request(request('a'));
    await answers.request(request('b'));
    now = 1001;
    await answers.request(request('a'));
    expect(added).toEqual(['a', 'b', 'a']);
  });

  test("asks only within the client's daily quota", async () => {
    const added: string[] = [];
    const counts = new Map<string, number>();
    const admit = async (clientId: string, limit: number) => {
      counts.set(clientId, (counts.get(clientId) ?? 0) + 1);
      return counts.get(clientId)! <= limit;
    };
    const answers = new CategoryAnswers({ add: async (r) => added.push(r.id), admit });
    for (const id of ['a', 'b', 'c']) await answers.request(request(id));
    await answers.request(request('d', 'globex'));
    expect(added).toEqual(['a', 'b', 'd']);
  });

  test('forgets a request whose enqueue failed, so the next answer asks again', async () => {
    let fail = true;
    const added: string[] = [];
    const add = async (r: CategoryJobRequest) => {
      if (fail) throw new Error('redis down');
      added.push(r.id);
    };
    const answers = new CategoryAnswers({ add, admit: always });
    await expect(answers.request(request('a'))).rejects.toThrow('redis down');
    fail = false;
    await answers.request(request('a'));
    expect(added).toEqual(['a']);
  });

  test('memory stays bounded', async () => {
    const added: string[] = [];
    const answers = new CategoryAnswers({ add: async (r) => added.push(r.id), admit: always }, { maxRemembered: 2 });
    for (const id of ['a', 'b', 'c', 'a']) await answers.request(request(id));
    expect(added).toEqual(['a', 'b', 'c', 'a']);
  });

  test('lets maxActive category jobs run at once', () => {
    const answers = new CategoryAnswers({ add: always, admit: always }, { maxActive: 1 });
    expect(answers.tryBegin()).toBe(true);
    expect(answers.tryBegin()).toBe(false);
    answers.end();
    expect(answers.tryBegin()).toBe(true);
  });
});
