import { budgetEventsKey } from '../../libs/budget/alerts.ts';
import { afterEach, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { budgetProbe, costMicrosOf, finishedJobs, payingConfig, sampleBudget, submitAll, type BudgetProbe } from '../helpers/budget.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

let gw: TestGateway | undefined;
let probe: BudgetProbe | undefined;
afterEach(async () => {
  await probe?.close();
  await gw?.stop();
  probe = undefined;
  gw = undefined;
});

const JOBS = 2000;
/**
 * The monthly limit: about half of what the 2,000 jobs cost. Measured once with an unlimited
 * budget: the simulator's answers are deterministic per prompt and the A/B split per user, so these
 * 2,000 jobs cost $38.955678 in all (988 on GPT-4, 1,012 on Claude; $0.006627 to $0.033810 each).
 */
const LIMIT_USD = 19.5;
const LIMIT_MICROS = LIMIT_USD * 1_000_000;
const JITTER = { kind: 'lognormal', p50_ms: 50, p95_ms: 200 } as const;

describe('budget under concurrency', () => {
  test('4 workers x 50, 2,000 jobs, a budget for about half: zero overshoot, exact books, nothing left reserved', async () => {
    gw = await startTestGateway({
      workers: 4,
      env: { WORKER_CONCURRENCY: '50' },
      simulatorKnobs: { openai: { latency: JITTER }, anthropic: { latency: JITTER } },
      editConfig: (c) => payingConfig(c, { monthly_usd: LIMIT_USD, daily_usd: null, on_exhausted: 'reject' }),
    });
    probe = budgetProbe(gw);
    const started = Date.now();
    const sampler = sampleBudget(probe.store, LIMIT_MICROS, 20);

    // Distinct inputs and users; at most 50 submissions open at once.
    const submissions = Array.from({ length: JOBS }, (_, i) => ({ ...careerSubmission(i), user_id: `race-${i}`, metadata: { race: i } }));
    const { ids, refused } = await submitAll(gw.client, submissions, 50);
    const jobs = await finishedJobs(gw.client, ids, 120_000);
    const samples = await sampler.stop();
    const elapsedMs = Date.now() - started;
    const after = await probe.store.snapshot();

    const completed = jobs.filter((j) => j.status === 'completed');
    const rejected = jobs.filter((j) => j.status === 'rejected');
    const books = completed.reduce((sum, j) => sum + costMicrosOf(j), 0);
    const calls = await gw.simulator.calls();
    console.log(
      JSON.stringify({
        completed: completed.length,
        rejected: rejected.length,
        refusedAtIntake: refused.length,
        spentMicros: after.month.spent,
        limitMicros: LIMIT_MICROS,
        unspentMicros: LIMIT_MICROS - after.month.spent,
        booksMicros: books,
        samples: samples.samples,
        maxCommittedMicros: samples.maxMonthCommitted,
        maxReservedMicros: samples.maxMonthReserved,
        maxHolds: samples.maxHolds,
        providerCalls: calls.total,
        elapsedMs,
      }),
    );

    // The API may refuse at intake once the hard cap is reached (reject policy): only with budget_exhausted.
    for (const r of refused) expect(r).toMatchObject({ status: 429, code: 'budget_exhausted' });
    // Every job is completed or rejected for the budget; nothing failed, nothing is left running.
    for (const j of jobs) {
      if (j.status === 'rejected') expect(j.error?.code).toBe('budget_exhausted');
      else expect(j.status).toBe('completed');
    }
    expect(completed.length + rejected.length + refused.length).toBe(JOBS);
    // About half were affordable (worst-case holds of jobs in flight make the split approximate).
    expect(completed.length).toBeGreaterThanOrEqual(0.3 * JOBS);
    expect(completed.length).toBeLessThanOrEqual(0.7 * JOBS);

    // Spent plus reserved never exceeded the limit at any sampled moment.
    // About one sample per 20-60 ms (the test process also drives 50 submissions at once).
    expect(samples.samples).toBeGreaterThan(elapsedMs / 100);
    expect(samples.violations).toEqual([]);
    expect(samples.maxMonthCommitted).toBeLessThanOrEqual(LIMIT_MICROS);
    // Zero overshoot, nothing left reserved, no hold leaked.
    expect(after.month.spent).toBeLessThanOrEqual(LIMIT_MICROS);
    expect(after.month.reserved).toBe(0);
    expect(after.day.reserved).toBe(0);
    expect(after.holds).toBe(0);
    expect(after.day.spent).toBe(after.month.spent);
    // The stored per-job costs are exact micro-dollars and add up to Redis's settled total.
    for (const j of completed) expect(Math.abs(j.cost_usd! * 1_000_000 - costMicrosOf(j))).toBeLessThan(1e-6);
    expect(books).toBe(after.month.spent);
    // One paid call per completed job, none for a rejected one.
    expect(calls.total.openai + calls.total.anthropic).toBe(completed.length);
    // Each monthly threshold reached was announced exactly once on the budget event stream, however
    // many of the 200 concurrent settles crossed it.
    const events = (await probe!.redis.xrange(budgetEventsKey(probe!.prefix), '-', '+')).map(([, fields]) => Object.fromEntries(chunk(fields)));
    const monthly = events.filter((e) => e.window === 'month').map((e) => Number(e.threshold));
    const reached = [0.8, 0.9, 0.95, 1].filter((t) => after.month.spent >= t * LIMIT_MICROS);
    expect(monthly.sort((a, b) => a - b)).toEqual(reached);
  }, 180_000);
});

function chunk(fields: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
  return pairs;
}
