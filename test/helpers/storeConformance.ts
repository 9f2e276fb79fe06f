/**
 * The conformance suite every JobStore adapter passes (DESIGN, "Storage"). An adapter's test file
 * calls describeJobStoreConformance with a factory for a fresh, initialised store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, JobStore } from '../../libs/store/types.ts';

/** A complete JobRecord with every field set (nested objects, unicode text); override any field. */
export function makeJobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: `job-${randomUUID()}`,
    client_id: 'client-a',
    status: 'completed',
    feature: 'career_path_navigator',
    prompt_version: 'v3',
    experiment: { id: 'gpt4-vs-sonnet', variant: 'claude' },
    provider: 'anthropic',
    model: 'claude-3-5-sonnet',
    result: { text: 'Étape 1 : devenir ingénieure — 数据科学家 🚀\n"quoted" \\ back\u2028slash' },
    usage: { input_tokens: 512, output_tokens: 498 },
    cost_usd: 0.009006,
    cache: 'miss',
    degraded: false,
    attempts: 2,
    provider_attempts: [
      { provider: 'openai', model: 'gpt-4', status: 503, errorCode: 'provider_unavailable', latencyMs: 120 },
      { provider: 'anthropic', model: 'claude-3-5-sonnet', status: 200, latencyMs: 2380 },
    ],
    error: null,
    latency_ms: { queue: 14, provider: 2500, total: 2531 },
    user_id: 'user-Zoë-42',
    metadata: { request_id: 'r-1', nested: { list: [1, 'two', { three: true }], nothing: null } },
    created_at: '2025-03-01T10:00:00.000Z',
    started_at: '2025-03-01T10:00:00.014Z',
    completed_at: '2025-03-01T10:00:02.545Z',
    ...overrides,
  };
}

/**
 * Registers the JobStore conformance tests under `describe(name)`. `makeStore` is called once for
 * the suite and must answer an initialised store; every test uses fresh ids, so tests do not
 * depend on each other. `cleanup` runs after the store is closed (remove files, drop databases).
 */
export function describeJobStoreConformance(
  name: string,
  makeStore: () => Promise<JobStore>,
  cleanup?: () => Promise<void>,
): void {
  describe(`JobStore conformance: ${name}`, () => {
    let store: JobStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('answers ping with true', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('init is safe to call again', async () => {
      await store.init();
      expect(await store.ping()).toBe(true);
    });

    it('round-trips a full record unchanged', async () => {
      const job = makeJobRecord();
      await store.save(job);
      expect(await store.get(job.client_id, job.id)).toEqual(job);
    });

    it('round-trips a record whose optional fields are null', async () => {
      const job = makeJobRecord({
        status: 'queued',
        prompt_version: null,
        experiment: null,
        provider: null,
        model: null,
        result: null,
        usage: null,
        cost_usd: null,
        cache: null,
        attempts: 0,
        provider_attempts: [],
        latency_ms: null,
        user_id: null,
        metadata: null,
        started_at: null,
        completed_at: null,
      });
      await store.save(job);
      expect(await store.get(job.client_id, job.id)).toEqual(job);
    });

    it('save replaces an earlier record with the same id', async () => {
      const first = makeJobRecord({ status: 'active', result: null, completed_at: null });
      await store.save(first);
      const second = { ...first, status: 'failed' as const, error: { code: 'provider_timeout', message: 'timed out' } };
      await store.save(second);
      expect(await store.get(first.client_id, first.id)).toEqual(second);
      expect(await store.getMany([first.id])).toHaveLength(1);
    });

    it("answers null for another client's job", async () => {
      const job = makeJobRecord({ client_id: 'client-a' });
      await store.save(job);
      expect(await store.get('client-b', job.id)).toBeNull();
    });

    it('answers null for an unknown id', async () => {
      expect(await store.get('client-a', `missing-${randomUUID()}`)).toBeNull();
    });

    it('saveMany of 500 then getMany returns them all', async () => {
      const jobs = Array.from({ length: 500 }, (_, i) =>
        makeJobRecord({ client_id: `client-${i % 7}`, attempts: i, metadata: { index: i } }),
      );
      await store.saveMany(jobs);
      const found = await store.getMany(jobs.map((j) => j.id));
      const byId = new Map(found.map((j) => [j.id, j]));
      expect(byId.size).toBe(500);
      for (const job of jobs) expect(byId.get(job.id)).toEqual(job);
    });

    it('saveMany upserts records that already exist', async () => {
      const job = makeJobRecord({ status: 'active' });
      await store.save(job);
      const done = { ...job, status: 'completed' as const };
      await store.saveMany([done, makeJobRecord()]);
      expect(await store.get(job.client_id, job.id)).toEqual(done);
    });

    it('saveMany of nothing is a no-op', async () => {
      await store.saveMany([]);
      expect(await store.ping()).toBe(true);
    });

    it('getMany skips unknown ids and accepts an empty list', async () => {
      const job = makeJobRecord();
      await store.save(job);
      expect(await store.getMany([])).toEqual([]);
      expect(await store.getMany([`missing-${randomUUID()}`, job.id])).toEqual([job]);
    });

    it('concurrent saves of distinct jobs all land', async () => {
      const jobs = Array.from({ length: 50 }, (_, i) => makeJobRecord({ attempts: i }));
      await Promise.all(jobs.map((j) => store.save(j)));
      await Promise.all([store.saveMany(jobs.slice(0, 10)), store.saveMany(jobs.slice(10, 20))]);
      const found = await store.getMany(jobs.map((j) => j.id));
      expect(found).toHaveLength(50);
    });
  });
}
