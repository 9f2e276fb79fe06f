// A record the store refuses fails its own job, once, and holds back no other. The API refuses
// metadata this deep, so the poison job is added straight to the queue, as an older API version
// or another producer would; 300 valid jobs go through the API around it.
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LLM_JOB_OPTIONS, type LlmJobData } from '../../libs/queue/jobs.ts';
import { SqliteJobStore } from '../../libs/store/sqlite.ts';
import { UNFINISHED_STATUSES, type JobRecord } from '../../libs/store/types.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { budgetProbe, payingConfig, submitAll, type BudgetProbe } from '../helpers/budget.ts';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const JOBS = 300;
/** SQLite's JSON functions refuse documents nested deeper than 1000 levels. */
const POISON_DEPTH = 1100;
/** Valid jobs queued before the poison job: it runs in the middle of the first wave of 50. */
const POISON_AFTER = 25;
// Answers take a moment, so jobs started together finish together and their records share batches.
const LATENCY = { kind: 'fixed', ms: 50 } as const;

let gw: TestGateway;
let probe: BudgetProbe;
let store: SqliteJobStore;

beforeAll(async () => {
  gw = await startTestGateway({
    env: { WORKER_CONCURRENCY: '50' },
    simulatorKnobs: { openai: { latency: LATENCY }, anthropic: { latency: LATENCY } },
    editConfig: (c) => {
      payingConfig(c, { monthly_usd: 100_000, daily_usd: null });
      // Polling reads: keep the read limit out of the way where the config has one.
      c.edit('rate_limits.json', (json) => {
        if ('read_rpm' in json.clients.default) json.clients.default.read_rpm = 1_000_000;
      });
    },
  });
  probe = budgetProbe(gw);
  // A second connection to the gateway's own SQLite file, to read what it stored.
  store = new SqliteJobStore(String(gw.system.env.DATABASE_URL));
  await store.init();
}, 60_000);

afterAll(async () => {
  await store?.close();
  await probe?.close();
  await gw?.stop();
});

/** Submits `count` valid jobs (request numbers from `from`) through the API; answers their ids. */
async function submitValid(from: number, count: number): Promise<string[]> {
  const submissions = Array.from({ length: count }, (_, i) => ({ ...careerSubmission(from + i), user_id: `poison-${from + i}` }));
  const { ids, refused } = await submitAll(gw.client, submissions, 50);
  expect(refused).toEqual([]);
  return ids;
}

/** Waits until every id has a finished record (the API stores a queued one at intake); answers the records. */
async function stored(ids: string[], timeoutMs = 25_000): Promise<JobRecord[]> {
  let records: JobRecord[] = [];
  await eventually(
    async () => {
      records = await store.getMany(ids);
      return records.length === ids.length && records.every((r) => !UNFINISHED_STATUSES.includes(r.status));
    },
    timeoutMs,
    `${ids.length} finished records`,
  );
  return records;
}

/** Milliseconds from `startedAt` to the last completion among `records`. */
const lastCompletion = (records: JobRecord[], startedAt: number) => Math.max(...records.map((r) => Date.parse(r.completed_at!))) - startedAt;

/** What every record in the gateway's store says was paid, in micro-dollars. */
function storedCostMicros(): number {
  const db = new DatabaseSync(String(gw.system.env.DATABASE_URL), { readOnly: true });
  try {
    const rows = db.prepare(`SELECT json_extract(doc, '$.cost_usd') AS cost FROM jobs`).all();
    return rows.reduce((sum, row) => sum + Math.round(Number(row.cost ?? 0) * 1_000_000), 0);
  } finally {
    db.close();
  }
}

/**
 * Queues `JOBS` valid jobs (and the poison job among the first wave, if asked) while the queue is
 * paused, then resumes it: jobs that start together finish together, so the poison record shares
 * batch transactions with others. Answers the valid jobs' records and the milliseconds from the
 * resume to the last completion.
 */
async function run(from: number, withPoison: boolean): Promise<{ records: JobRecord[]; ms: number; poisonId?: string }> {
  await probe.queue.pause();
  const ids = await submitValid(from, POISON_AFTER);
  const poisonId = withPoison ? await addPoisonJob(POISON_DEPTH) : undefined;
  ids.push(...(await submitValid(from + POISON_AFTER, JOBS - POISON_AFTER)));
  const resumedAt = Date.now();
  await probe.queue.resume();
  const records = await stored(ids);
  return { records, ms: lastCompletion(records, resumedAt), poisonId };
}

/** A job exactly as the API would queue it, but with metadata nested `depth` deep. */
async function addPoisonJob(depth: number): Promise<string> {
  let metadata: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) metadata = { nested: metadata };
  const base = careerSubmission(9_999);
  const id = randomUUID();
  const data: LlmJobData = {
    clientId: gw.system.clientId,
    feature: String(base.feature),
    input: base.input as Record<string, unknown>,
    userId: 'poison-user',
    callbackUrl: null,
    metadata,
    createdAt: new Date().toISOString(),
  };
  await probe.queue.add('llm', data, { ...LLM_JOB_OPTIONS, jobId: id });
  return id;
}

describe('a record the store refuses', () => {
  test('fails its job alone, after one attempt, with its cost settled; 300 jobs around it complete as fast as without it', async () => {
    const control = await run(0, false);
    const poisoned = await run(JOBS, true);
    const records = poisoned.records;
    const poisonId = poisoned.poisonId!;

    for (const record of [...control.records, ...records]) {
      expect(record.status).toBe('completed');
      expect(record.attempts).toBe(1);
    }
    expect(poisoned.ms).toBeLessThanOrEqual(1.5 * control.ms + 2000);

    // The poison job: failed with its own code after one attempt and one provider call.
    const [poison] = await stored([poisonId], 10_000);
    expect(poison).toMatchObject({ status: 'failed', attempts: 1, metadata: null, result: null, error: { code: 'record_refused' } });
    expect(poison!.cost_usd).toBeGreaterThan(0);
    const polled = await gw.client.get(poisonId);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ status: 'failed', error: { code: 'record_refused' } });
    const job = await probe.queue.getJob(poisonId);
    expect(await job!.getState()).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/^record_refused/);
    const calls = await gw.simulator.calls();
    const poisonCalls = calls.by_job[poisonId] ?? {};
    expect((poisonCalls.openai ?? 0) + (poisonCalls.anthropic ?? 0)).toBe(1);

    // The books: once nothing is in flight, what the budget counts is what the records say was paid.
    await eventually(
      async () => {
        const counts = await probe.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0) && (await probe.store.snapshot()).month.reserved === 0;
      },
      10_000,
      'an idle queue and no open budget holds',
    );
    expect((await probe.store.snapshot()).month.spent).toBe(storedCostMicros());
    console.log(`poison record: ${JOBS} jobs done in ${control.ms} ms alone, in ${poisoned.ms} ms beside the poison job`);
  }, 60_000);
});
