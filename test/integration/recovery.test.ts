import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redisKit } from '../helpers/redisKit.ts';
import { makeIntakeRecord } from '../helpers/storeRecoveryConformance.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { LLM_JOB_OPTIONS, LLM_QUEUE, type LlmJobData } from '../../libs/queue/jobs.ts';
import { epochKey, startReconciler, type Reconciler } from '../../libs/jobs/recovery.ts';
import { intakeRecord } from '../../libs/jobs/intakeRecord.ts';
import { budgetWindows } from '../../libs/budget/reservation.ts';

const kit = redisKit('recovery');
const dir = join(tmpdir(), `gateway-recovery-${randomUUID()}`);
const silent = { info: () => {}, warn: () => {}, error: () => {} };

let store: SqliteJobStore;
beforeAll(async () => {
  store = new SqliteJobStore(join(dir, 'jobs.sqlite'));
  await store.init();
});
afterAll(async () => {
  await store.close();
  await kit.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A fresh prefix with its queue, budget and a reconciler factory that checks only when asked. */
function setup() {
  const prefix = kit.freshPrefix();
  const redis = kit.connect();
  const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection: redis, prefix });
  const budget = new BudgetStore(redis, prefix, { spend: store });
  const reconcilers: Reconciler[] = [];
  const reconciler = () => {
    const r = startReconciler({ redis, prefix, queue, jobOptions: LLM_JOB_OPTIONS, store, seedBudget: () => budget.seedWindows(), log: silent }, { intervalMs: 3_600_000, sweepIntervalMs: 3_600_000, pageSize: 2 });
    reconcilers.push(r);
    return r;
  };
  const close = async () => {
    await Promise.all(reconcilers.map((r) => r.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  };
  return { prefix, redis, queue, budget, reconciler, close };
}

describe('the reconciler', () => {
  test('queues again every unfinished job Redis lost, under its id, and nothing else; then the marker is set', async () => {
    const s = setup();
    try {
      const lost = [0, 1, 2].map(() => makeIntakeRecord({ id: randomUUID() }));
      const stillQueued = makeIntakeRecord({ id: randomUUID() });
      const data = { clientId: stillQueued.client_id, feature: stillQueued.feature, input: {}, userId: null, callbackUrl: null, metadata: null, createdAt: stillQueued.created_at };
      await s.queue.add('llm', data, { jobId: stillQueued.id });
      const { intake: _i, ...noIntake } = makeIntakeRecord({ id: randomUUID() });
      const finished = makeJobRecord({ id: randomUUID() });
      await store.saveMany([...lost, stillQueued, noIntake, finished]);

      const counts = await s.reconciler().check();
      expect(counts).toMatchObject({ requeue: 3, in_queue: 1, no_intake: 1 });
      for (const record of lost) {
        const job = await s.queue.getJob(record.id);
        expect(job?.data).toEqual({ ...intakeRecordData(record) });
      }
      expect(await s.queue.getJob(finished.id)).toBeUndefined();
      expect(await s.redis.get(epochKey(s.prefix))).toMatch(/^[0-9a-f-]{36}$/);
      // Intact: later checks do nothing.
      expect(await s.reconciler().check()).toBeNull();
    } finally {
      await s.close();
      await store.saveMany((await store.unfinished('', 10_000)).map((r) => ({ ...r, status: 'cancelled' as const })));
    }
  });

  test('with the marker intact, a sweep queues again the old unfinished jobs Redis lost (a failover dropped them), not the young ones, once per lease', async () => {
    const s = setup();
    try {
      const r = s.reconciler();
      await r.check(); // sets the marker: Redis counts as intact from here on
      const old = new Date(Date.now() - 10 * 60_000).toISOString();
      const lost = makeIntakeRecord({ id: randomUUID(), created_at: old });
      const young = makeIntakeRecord({ id: randomUUID(), created_at: new Date().toISOString() });
      await store.saveMany([lost, young]);
      expect(await r.check()).toBeNull();
      expect(await r.sweep()).toMatchObject({ requeue: 1 });
      expect((await s.queue.getJob(lost.id))?.data).toEqual(intakeRecordData(lost));
      expect(await s.queue.getJob(young.id)).toBeUndefined();
      // Another worker within the same interval does not sweep again.
      expect(await s.reconciler().sweep()).toBeNull();
    } finally {
      await s.close();
      await store.saveMany((await store.unfinished('', 10_000)).map((r) => ({ ...r, status: 'cancelled' as const })));
    }
  });

  test('of two workers finding the marker missing, one recovers; budget windows are seeded from the store', async () => {
    const s = setup();
    try {
      const w = budgetWindows(new Date());
      const spent = await store.spentMicros(new Date(w.monthStartsAt).toISOString(), new Date(w.monthEndsAt).toISOString());
      await store.save(makeJobRecord({ cost_usd: 1.5, completed_at: new Date().toISOString() }));
      const answers = await Promise.all([s.reconciler().check(), s.reconciler().check()]);
      expect(answers.filter((a) => a !== null)).toHaveLength(1);
      const snap = await s.budget.snapshot();
      expect(snap.month.spent).toBe(spent + 1_500_000);
      expect(snap.day.spent).toBeGreaterThanOrEqual(1_500_000);
    } finally {
      await s.close();
    }
  });

  test('a recovery that fails gives the marker up, so the next check recovers', async () => {
    const s = setup();
    try {
      let fail = true;
      const r = startReconciler(
        {
          redis: s.redis,
          prefix: s.prefix,
          queue: s.queue,
          jobOptions: LLM_JOB_OPTIONS,
          store,
          seedBudget: async () => {
            if (fail) throw new Error('store down');
          },
          log: silent,
        },
        { intervalMs: 3_600_000 },
      );
      await expect(r.check()).rejects.toThrow('store down');
      expect(await s.redis.exists(epochKey(s.prefix))).toBe(0);
      fail = false;
      expect(await r.check()).not.toBeNull();
      await r.stop();
    } finally {
      await s.close();
    }
  });
});

/** The queue data the API gave a job whose intake record is `record`. */
function intakeRecordData(record: ReturnType<typeof makeIntakeRecord>): LlmJobData {
  const data = {
    clientId: record.client_id,
    feature: record.feature,
    input: record.intake!.input,
    userId: record.user_id,
    callbackUrl: record.callback_url ?? null,
    metadata: record.metadata,
    createdAt: record.created_at,
    idempotencyFingerprint: record.idempotency_fingerprint!,
  };
  // The round trip the API makes: data -> intake record -> data.
  expect(intakeRecord(record.id, data)).toMatchObject({ intake: record.intake, idempotency_fingerprint: record.idempotency_fingerprint });
  return data;
}
