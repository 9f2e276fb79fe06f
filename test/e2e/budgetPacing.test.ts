/**
 * Budget pacing through the real system: once today's allowance (the month's limit spread evenly
 * over the days left) is spent, each configured action applies to the next jobs: `defer` holds them
 * until tomorrow, `batch` sends them through the batch lane at the batch price, `downgrade` runs
 * them on the cheapest model that fits what is left of today's allowance.
 */
import { afterEach, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payingConfig, submissionsFor, worstCasesFor } from '../helpers/budget.ts';
import { dailyAllowanceMicros } from '../../libs/budget/pacing.ts';

interface Job {
  id: string;
  status: string;
  lane: string;
  served_by: string | null;
  provider: string | null;
  cost_usd: number | null;
  deadline_at?: string;
  waiting: { reason: string; until: string } | null;
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const JOBS = 8;

/** A gateway whose today's allowance pays for 3.5 GPT-4 worst cases, pacing with `action`; its jobs, each sent once the one before has finished or waits. */
async function pacedRun(action: 'defer' | 'batch' | 'downgrade'): Promise<{ jobs: Job[]; allowanceMicros: number; worstCase: number; todaySpent: number }> {
  // Pacing works per UTC day: a run must not straddle midnight.
  const toMidnight = 86_400_000 - (Date.now() % 86_400_000);
  if (toMidnight < 180_000) await new Promise((resolve) => setTimeout(resolve, toMidnight + 1000));
  let worstCase = 0;
  let limitUsd = 0;
  gw = await startTestGateway({
    editConfig: (c) => {
      const probe = submissionsFor('gpt4', 1, c.dir)[0]!;
      worstCase = worstCasesFor(c.dir, probe).chainMicros;
      // The even curve with nothing spent yet: today's allowance is the limit over the days left.
      const perUsd = dailyAllowanceMicros(1_000_000_000, 0, new Date()) / 1_000_000_000;
      limitUsd = Math.ceil((3.5 * worstCase) / perUsd) / 1e6;
      payingConfig(c, { monthly_usd: limitUsd, pacing: { enabled: true, curve: 'even', action } });
      c.edit('provider_settings.json', (p) => (p['batch'] = { enabled: true, max_items: 100, max_age_ms: 200, poll_interval_ms: 200, min_deadline_s: 900, realtime_margin_s: 600 }));
    },
  });
  const allowanceMicros = dailyAllowanceMicros(Math.round(limitUsd * 1e6), 0, new Date());
  const jobs: Job[] = [];
  for (const submission of submissionsFor('gpt4', JOBS, gw.config.dir)) {
    const id = await gw.client.submit(submission);
    // Finished, or held by pacing: either way its decision is made.
    for (;;) {
      const job = (await gw.client.request<Job>('GET', `/v1/jobs/${id}`)).body;
      if (['completed', 'failed', 'rejected'].includes(job.status) || job.waiting?.reason === 'pacing') {
        jobs.push(job);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const budget = (await gw.client.request<{ day: { spent_usd: number } }>('GET', '/v1/budget')).body;
  return { jobs, allowanceMicros, worstCase, todaySpent: Math.round(budget.day.spent_usd * 1e6) };
}

test('defer: jobs past the allowance wait for tomorrow, and today spends no more than it', async () => {
  const { jobs, allowanceMicros, todaySpent } = await pacedRun('defer');
  const deferred = jobs.filter((j) => j.waiting?.reason === 'pacing');
  expect(jobs.filter((j) => j.status === 'completed').length).toBeGreaterThanOrEqual(3);
  expect(deferred.length).toBeGreaterThan(0);
  const midnight = Math.ceil(Date.now() / 86_400_000) * 86_400_000;
  for (const j of deferred) expect(Date.parse(j.waiting!.until)).toBeGreaterThanOrEqual(midnight);
  expect(todaySpent).toBeLessThanOrEqual(allowanceMicros);
}, 90_000);

test('batch: jobs past the allowance ride the batch lane with an hour of deadline', async () => {
  const { jobs } = await pacedRun('batch');
  expect(jobs.map((j) => j.status)).toEqual(jobs.map(() => 'completed'));
  const batched = jobs.filter((j) => j.lane === 'batch');
  expect(batched.length).toBeGreaterThan(0);
  expect(jobs.slice(0, 3).map((j) => j.lane)).toEqual(['realtime', 'realtime', 'realtime']);
  for (const j of batched) expect(j.deadline_at).toBeDefined();
}, 90_000);

test('downgrade: jobs past the allowance run on the cheapest model that fits, out of the A/B comparison', async () => {
  const { jobs, allowanceMicros, worstCase, todaySpent } = await pacedRun('downgrade');
  const downgraded = jobs.filter((j) => j.served_by === 'downgrade');
  expect(downgraded.length).toBeGreaterThan(0);
  for (const j of downgraded) expect(j.provider).toBe('anthropic');
  // A downgrade that no longer fits what is left is deferred instead.
  expect(todaySpent).toBeLessThanOrEqual(allowanceMicros + worstCase);
}, 90_000);
