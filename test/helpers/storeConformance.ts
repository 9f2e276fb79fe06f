/**
 * The conformance suite every JobStore adapter passes (README, "Storage"). An adapter's test file
 * calls describeJobStoreConformance with a factory for a fresh, initialised store.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentRow, FeedbackRecord, FinishedRow, JobRecord, JobStore } from '../../libs/store/types.ts';
import { describeRecoveryConformance } from './storeRecoveryConformance.ts';
import { describeSearchConformance } from './storeSearchConformance.ts';

/** The fields of a job no worker has answered yet (queued, nothing paid, nothing stored). */
export const UNANSWERED: Partial<JobRecord> = {
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
  started_at: null,
  completed_at: null,
};

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

/** A FeedbackRecord for `job` (its id and client); override any field. */
export function makeFeedbackRecord(job: Pick<JobRecord, 'id' | 'client_id'>, overrides: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    job_id: job.id,
    client_id: job.client_id,
    rating: 4,
    helpful: true,
    comment: 'Clear next steps — merci 👍',
    created_at: '2025-03-01T10:05:00.000Z',
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

    describeRecoveryConformance(() => store);
    describeSearchConformance(() => store);

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

    it('round-trips the request id, and a record written before request ids existed', async () => {
      const withId = makeJobRecord({ request_id: 'rails-123' });
      const older = makeJobRecord();
      await store.saveMany([withId, older]);
      expect(await store.get(withId.client_id, withId.id)).toEqual(withId);
      const read = await store.get(older.client_id, older.id);
      expect(read).toEqual(older);
      expect(read).not.toHaveProperty('request_id');
    });

    it('round-trips a record whose optional fields are null', async () => {
      const job = makeJobRecord({ ...UNANSWERED, user_id: null, metadata: null });
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

    it('the first terminal write of a job wins: a later save answers kept_earlier and changes nothing', async () => {
      for (const status of ['completed', 'failed', 'rejected', 'cancelled'] as const) {
        const first = makeJobRecord({ status, cost_usd: 0.009 });
        expect(await store.save(first)).toBe('written');
        // A duplicate run that became a cache follower: cost 0, another outcome.
        const later = { ...first, status: 'completed' as const, cost_usd: 0, cache: 'hit' as const, served_by: 'cache' as const };
        expect(await store.save(later)).toBe('kept_earlier');
        expect(await store.saveMany([later])).toEqual(['kept_earlier']);
        expect(await store.get(first.client_id, first.id)).toEqual(first);
      }
    });

    it('non-terminal records are replaced on the way to a terminal one', async () => {
      const queued = makeJobRecord({ status: 'queued', result: null, completed_at: null });
      expect(await store.save(queued)).toBe('written');
      const active = { ...queued, status: 'active' as const };
      expect(await store.save(active)).toBe('written');
      const done = makeJobRecord({ id: queued.id });
      expect(await store.saveMany([done])).toEqual(['written']);
      expect(await store.get(done.client_id, done.id)).toEqual(done);
    });

    it('saveMany reports each record in order, and within one batch the first terminal version wins', async () => {
      const finished = makeJobRecord();
      await store.save(finished);
      const fresh = makeJobRecord();
      const twiceA = makeJobRecord({ status: 'failed', error: { code: 'provider_timeout', message: 'timed out' } });
      const twiceB = { ...twiceA, status: 'completed' as const, error: null };
      const outcomes = await store.saveMany([{ ...finished, cost_usd: 0 }, fresh, twiceA, twiceB]);
      expect(outcomes).toEqual(['kept_earlier', 'written', 'written', 'kept_earlier']);
      expect(await store.getMany([finished.id, fresh.id, twiceA.id])).toEqual([finished, fresh, twiceA]);
    });

    it('saveMany of nothing is a no-op', async () => {
      expect(await store.saveMany([])).toEqual([]);
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

    it('round-trips feedback, for its own client only', async () => {
      const job = makeJobRecord();
      await store.save(job);
      const feedback = makeFeedbackRecord(job);
      await store.saveFeedback(feedback);
      expect(await store.getFeedback(job.client_id, job.id)).toEqual(feedback);
      expect(await store.getFeedback('client-b', job.id)).toBeNull();
      expect(await store.getFeedback(job.client_id, `missing-${randomUUID()}`)).toBeNull();
    });

    it('a second feedback for the same job replaces the first, nulls included', async () => {
      const job = makeJobRecord();
      await store.save(job);
      await store.saveFeedback(makeFeedbackRecord(job, { rating: 5 }));
      const second = makeFeedbackRecord(job, { rating: 2, helpful: null, comment: null, created_at: '2025-03-02T08:00:00.000Z' });
      await store.saveFeedback(second);
      expect(await store.getFeedback(job.client_id, job.id)).toEqual(second);
      const rows = await store.experimentRows(job.client_id, job.experiment!.id, '2025-01-01T00:00:00.000Z');
      expect(rows.filter((r) => r.rating !== null).map((r) => r.rating)).toContain(2);
    });

    it("experimentRows answers the client's jobs of one experiment since a date, with ratings", async () => {
      const experimentId = `exp-${randomUUID()}`;
      const at = (minute: number) => `2025-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      const rated = makeJobRecord({ experiment: { id: experimentId, variant: 'gpt4' }, created_at: at(10), served_by: 'provider', provider: 'openai', model: 'gpt-4', usage: { input_tokens: 500, output_tokens: 400 }, cost_usd: 0.039, latency_ms: { queue: 5, provider: 1800, total: 1850 } });
      const unrated = makeJobRecord({ experiment: { id: experimentId, variant: 'claude' }, created_at: at(20), served_by: 'failover', degraded: false });
      const failed = makeJobRecord({
        experiment: { id: experimentId, variant: 'claude' },
        created_at: at(30),
        status: 'failed',
        provider: null,
        model: null,
        result: null,
        usage: null,
        cost_usd: null,
        cache: null,
        latency_ms: null,
        error: { code: 'provider_unavailable', message: 'down' },
      });
      const degraded = makeJobRecord({ experiment: { id: experimentId, variant: 'gpt4' }, created_at: at(40), served_by: 'degraded', degraded: true, cache: 'miss' });
      const tooOld = makeJobRecord({ experiment: { id: experimentId, variant: 'gpt4' }, created_at: at(0) });
      const otherClient = makeJobRecord({ client_id: 'client-b', experiment: { id: experimentId, variant: 'gpt4' }, created_at: at(15) });
      const otherExperiment = makeJobRecord({ experiment: { id: `exp-${randomUUID()}`, variant: 'gpt4' }, created_at: at(15) });
      await store.saveMany([rated, unrated, failed, degraded, tooOld, otherClient, otherExperiment]);
      await store.saveFeedback(makeFeedbackRecord(rated, { rating: 5 }));
      await store.saveFeedback(makeFeedbackRecord(otherClient, { rating: 1 }));

      const rows = await store.experimentRows('client-a', experimentId, at(5));
      expect(rows).toHaveLength(4);
      expect(rows.find((r) => r.rating !== null)).toEqual({
        variant: 'gpt4',
        status: 'completed',
        served_by: 'provider',
        cache: 'miss',
        degraded: false,
        cost_usd: 0.039,
        input_tokens: 500,
        output_tokens: 400,
        provider_latency_ms: 1800,
        total_latency_ms: 1850,
        rating: 5,
        queue_latency_ms: 5,
        created_at: at(10),
        unit: rated.user_id!,
        sector: 'unknown',
        degree_level: 'unknown',
        experience_band: 'unknown',
        holdout: false,
        lane: 'realtime',
        assignment_known: false,
      } satisfies ExperimentRow);
      expect(rows.find((r) => r.status === 'failed')).toEqual({
        variant: 'claude',
        status: 'failed',
        served_by: null,
        cache: null,
        degraded: false,
        cost_usd: null,
        input_tokens: null,
        output_tokens: null,
        provider_latency_ms: null,
        total_latency_ms: null,
        rating: null,
        queue_latency_ms: null,
        created_at: at(30),
        unit: failed.user_id!,
        sector: 'unknown',
        degree_level: 'unknown',
        experience_band: 'unknown',
        holdout: false,
        lane: 'realtime',
        assignment_known: false,
      } satisfies ExperimentRow);
      expect(rows.find((r) => r.served_by === 'degraded')).toMatchObject({ variant: 'gpt4', degraded: true, rating: null });
      expect(rows.find((r) => r.served_by === 'failover')).toMatchObject({ variant: 'claude', rating: null });
      expect(await store.experimentRows('client-b', experimentId, at(5))).toEqual([expect.objectContaining({ variant: 'gpt4', rating: 1 })]);
      expect(await store.experimentRows('client-a', experimentId, at(45))).toEqual([]);
      expect(await store.experimentRows('client-a', `exp-${randomUUID()}`, at(0))).toEqual([]);
    });

    it('experimentRows of every client (null) carries category, holdout, unit, creation time and queue time', async () => {
      const experimentId = `exp-${randomUUID()}`;
      const at = (minute: number) => `2025-06-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      const category = { sector: 'renewable_energy', degree_level: 'master', experience_band: '3-5' };
      const a = makeJobRecord({ client_id: 'client-a', experiment: { id: experimentId, variant: 'gpt4' }, category, created_at: at(10), latency_ms: { queue: 120, provider: 900, total: 1100 } });
      const heldOut = makeJobRecord({ client_id: 'client-b', experiment: { id: experimentId, variant: 'gpt4', holdout: true }, created_at: at(20), user_id: null });
      const old = makeJobRecord({ client_id: 'client-b', experiment: { id: experimentId, variant: 'claude' }, created_at: at(1) });
      await store.saveMany([a, heldOut, old]);
      await store.saveFeedback(makeFeedbackRecord(heldOut, { rating: 4 }));

      const rows = await store.experimentRows(null, experimentId, at(5));
      expect(rows).toHaveLength(2);
      expect(rows.find((r) => r.created_at === at(10))).toMatchObject({ ...category, holdout: false, assignment_known: true, unit: a.user_id, queue_latency_ms: 120, rating: null });
      // Without a user the job itself is the unit.
      expect(rows.find((r) => r.created_at === at(20))).toMatchObject({ holdout: true, unit: heldOut.id, sector: 'unknown', rating: 4, assignment_known: false });
      expect(await store.experimentRows('client-b', experimentId, at(5))).toEqual([expect.objectContaining({ holdout: true })]);
    });

    it('experimentRows carries the lane that answered each job; a record without one reads realtime', async () => {
      const experimentId = `exp-${randomUUID()}`;
      const at = (minute: number) => `2025-07-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      const batch = makeJobRecord({ experiment: { id: experimentId, variant: 'gpt4' }, lane: 'batch', created_at: at(10) });
      const realtime = makeJobRecord({ experiment: { id: experimentId, variant: 'gpt4' }, lane: 'realtime', created_at: at(20) });
      const older = makeJobRecord({ experiment: { id: experimentId, variant: 'claude' }, created_at: at(30) });
      expect(older).not.toHaveProperty('lane');
      await store.saveMany([batch, realtime, older]);

      const rows = await store.experimentRows('client-a', experimentId, at(0));
      expect(rows.map((r) => [r.created_at, r.lane]).sort()).toEqual([
        [at(10), 'batch'],
        [at(20), 'realtime'],
        [at(30), 'realtime'],
      ]);
    });

    it('finishedRows answers terminal records of every client completed in a window, newest first, capped', async () => {
      // A year no other test writes, so the window holds only these records.
      const at = (minute: number) => `2031-07-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      const paid = makeJobRecord({ client_id: 'client-a', completed_at: at(10), served_by: 'provider', provider: 'openai', cost_usd: 0.039, latency_ms: { queue: 5, provider: 1800, total: 1850 } });
      const failed = makeJobRecord({
        client_id: 'client-b',
        completed_at: at(20),
        status: 'failed',
        experiment: null,
        provider: null,
        served_by: null,
        cost_usd: null,
        latency_ms: null,
        error: { code: 'provider_unavailable', message: 'down' },
      });
      const newest = makeJobRecord({ completed_at: at(30), served_by: 'cache', cost_usd: 0 });
      const unfinished = makeJobRecord({ ...UNANSWERED, created_at: at(25) });
      const before = makeJobRecord({ completed_at: at(4) });
      const atEnd = makeJobRecord({ completed_at: at(40) });
      await store.saveMany([paid, failed, newest, unfinished, before, atEnd]);

      const rows = await store.finishedRows(at(5), at(40), 100);
      expect(rows.map((r) => r.completed_at)).toEqual([at(30), at(20), at(10)]);
      expect(rows[2]).toEqual({
        client_id: 'client-a',
        status: 'completed',
        provider: 'openai',
        experiment_id: 'gpt4-vs-sonnet',
        variant: 'claude',
        served_by: 'provider',
        cost_usd: 0.039,
        provider_latency_ms: 1800,
        total_latency_ms: 1850,
        error_code: null,
        completed_at: at(10),
      } satisfies FinishedRow);
      expect(rows[1]).toEqual({
        client_id: 'client-b',
        status: 'failed',
        provider: null,
        experiment_id: null,
        variant: null,
        served_by: null,
        cost_usd: null,
        provider_latency_ms: null,
        total_latency_ms: null,
        error_code: 'provider_unavailable',
        completed_at: at(20),
      } satisfies FinishedRow);
      expect((await store.finishedRows(at(5), at(40), 2)).map((r) => r.completed_at)).toEqual([at(30), at(20)]);
      expect(await store.finishedRows(at(41), at(59), 10)).toEqual([]);
    });
  });
}
