/**
 * The batch lane through the real system (API, worker, simulator speaking both batch APIs to the
 * official SDKs): jobs with an hour to spare are answered through batches at half the realtime
 * price, to the micro-dollar; failed and expired items are answered by the realtime lane; no job
 * is sent twice or paid twice, even when the worker is SIGKILLed while its batch is out.
 */
import { afterEach, expect, test } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { batchPrice, costMicros, priceAt } from '../../libs/budget/cost.ts';
import type { TempConfig } from '../../libs/config/tempConfig.ts';

interface Job {
  id: string;
  status: string;
  lane: string;
  provider: string;
  model: string;
  cost_usd: number;
  usage: { input_tokens: number; output_tokens: number };
  served_by: string;
}
interface BatchCounts {
  batches_created: { openai: number; anthropic: number };
  items_submitted: { openai: number; anthropic: number };
  batch_items_by_job: Record<string, number>;
}

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

function laneConfig(c: TempConfig): void {
  c.edit('provider_settings.json', (p) => {
    p['batch'] = { enabled: true, max_items: 100, max_age_ms: 300, poll_interval_ms: 250, min_deadline_s: 900, realtime_margin_s: 600 };
  });
  c.edit('rate_limits.json', (r) => {
    r['clients'] = { default: { rpm: 100_000, read_rpm: 100_000 } };
  });
  // Every job asks a provider: no cached answer or generic category answer stands in for one.
  c.edit('features/career_path_navigator.json', (f) => {
    f['cache'] = { ...f['cache'], enabled: false };
    delete f['category_fallback'];
  });
}

const batchCounts = async (): Promise<BatchCounts> => (await (await fetch(`${gw!.system.simulatorUrl}/admin/calls/batch`)).json()) as BatchCounts;

async function submitAll(count: number, deadlineS: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    ids.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, k) => gw!.client.submit({ ...careerSubmission(i + k), deadline_s: deadlineS })))));
  }
  return ids;
}

test('1,000 jobs with an hour to spare: batch answers at half price, failed and expired items answered in realtime, none paid twice', async () => {
  gw = await startTestGateway({ editConfig: laneConfig, env: { WORKER_CONCURRENCY: '32' } });
  const cfg = loadConfig(gw.config.dir);
  await gw.simulator.setKnobs({ seed: 11, openai: { batch: { completion_delay_ms: 300, item_error_rate: 0.1, expire_next: 1 } }, anthropic: { batch: { completion_delay_ms: 300, item_error_rate: 0.1 } } });
  const ids = await submitAll(1000, 3600);
  const jobs = [...(await gw.client.waitForAll(ids, { timeoutMs: 240_000 })).values()] as unknown as Job[];
  expect(jobs.filter((j) => j.status !== 'completed')).toEqual([]);

  const counts = await batchCounts();
  const calls = await gw.simulator.calls();
  // Every job was sent in a batch exactly once.
  expect(ids.map((id) => counts.batch_items_by_job[id])).toEqual(ids.map(() => 1));
  const batched = jobs.filter((j) => j.lane === 'batch');
  const realtime = jobs.filter((j) => j.lane === 'realtime');
  // The expired batch (up to 100 items) and ~10% of the rest came back without an answer.
  expect(realtime.length).toBeGreaterThan(100);
  expect(realtime.length).toBeLessThan(350);
  for (const j of batched) {
    // A batch answer made no realtime call...
    expect(calls.by_job[j.id] ?? { openai: 0, anthropic: 0 }).toEqual({ openai: 0, anthropic: 0 });
    // ...and cost half the realtime price of the same tokens, to the micro-dollar.
    const period = priceAt(cfg.providers.providers[j.provider]!.models[j.model]!, new Date());
    const usage = { inputTokens: j.usage.input_tokens, outputTokens: j.usage.output_tokens };
    expect(Math.round(j.cost_usd * 1e6)).toBe(costMicros(usage, batchPrice(period)!));
    expect(Math.round(j.cost_usd * 1e6)).toBe(Math.ceil(costMicros(usage, period) / 2));
  }
  // Each job answered in realtime made exactly one realtime call.
  for (const j of realtime) expect(Object.values(calls.by_job[j.id] ?? {}).reduce((a, b) => a + b, 0)).toBe(1);
  // Paid once each: the budget's spend is the sum of the jobs' costs, and nothing stays reserved.
  const budget = (await gw.client.request<{ month: { spent_usd: number; reserved_usd: number } }>('GET', '/v1/budget')).body;
  const sum = jobs.reduce((a, j) => a + Math.round(j.cost_usd * 1e6), 0);
  expect(Math.round(budget.month.spent_usd * 1e6)).toBe(sum);
  expect(budget.month.reserved_usd).toBe(0);
  console.info(`[batchLane] ${batched.length} jobs answered by ${counts.batches_created.openai + counts.batches_created.anthropic} batches, ${realtime.length} by the realtime lane after their item failed or expired; spend ${sum} micro-dollars`);
}, 300_000);

test('a worker SIGKILLed while its batch is out loses no job and sends none twice', async () => {
  gw = await startTestGateway({ editConfig: laneConfig });
  await gw.simulator.setKnobs({ openai: { batch: { completion_delay_ms: 4000 } }, anthropic: { batch: { completion_delay_ms: 4000 } } });
  const ids = await submitAll(60, 3600);
  await eventually(async () => Object.keys((await batchCounts()).batch_items_by_job).length === ids.length, 30_000, 'every job sent in a batch');
  const [worker] = gw.system.processes.filter((p) => p.name === 'worker');
  worker!.child.kill('SIGKILL');
  await eventually(async () => worker!.child.signalCode !== null, 10_000, 'the worker to die');
  await gw.system.addWorker();
  const jobs = [...(await gw.client.waitForAll(ids, { timeoutMs: 60_000 })).values()] as unknown as Job[];
  expect(jobs.map((j) => [j.status, j.lane])).toEqual(ids.map(() => ['completed', 'batch']));
  const counts = await batchCounts();
  expect(ids.map((id) => counts.batch_items_by_job[id])).toEqual(ids.map(() => 1));
  expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 0 });
  const budget = (await gw.client.request<{ month: { spent_usd: number; reserved_usd: number } }>('GET', '/v1/budget')).body;
  expect(Math.round(budget.month.spent_usd * 1e6)).toBe(jobs.reduce((a, j) => a + Math.round(j.cost_usd * 1e6), 0));
}, 120_000);

test('the generic answer of a category is written through the batch lane, at the batch price', async () => {
  gw = await startTestGateway({ editConfig: (c) => c.edit('provider_settings.json', (p) => (p['batch'] = { enabled: true, max_items: 100, max_age_ms: 300, poll_interval_ms: 250, min_deadline_s: 900, realtime_margin_s: 600 })) });
  // A user's paid answer (realtime: no deadline) asks for the generic answer of its category.
  const user = await gw.client.submit(careerSubmission(7));
  await gw.client.waitForAll([user], { timeoutMs: 30_000 });
  let category: (Job & { id: string }) | undefined;
  await eventually(async () => {
    const page = (await gw!.client.request<{ jobs: Job[] }>('GET', '/v1/jobs?limit=20')).body;
    category = page.jobs.find((j) => j.id.startsWith('category-') && j.status === 'completed');
    return category !== undefined;
  }, 30_000, 'the category job to complete');
  expect(category).toMatchObject({ lane: 'batch', served_by: 'provider' });
  const counts = await batchCounts();
  expect(counts.items_submitted.openai + counts.items_submitted.anthropic).toBe(1);
  // One realtime call: the user's own job; the category's answer came from a batch.
  const calls = await gw.simulator.calls();
  expect(calls.total.openai + calls.total.anthropic).toBe(1);
  const cfg = loadConfig(gw.config.dir);
  const period = priceAt(cfg.providers.providers[category!.provider]!.models[category!.model]!, new Date());
  expect(Math.round(category!.cost_usd * 1e6)).toBe(costMicros({ inputTokens: category!.usage.input_tokens, outputTokens: category!.usage.output_tokens }, batchPrice(period)!));
}, 90_000);

test('a job cancelled while in line leaves the lane with its hold given back; one whose batch is out cannot be cancelled', async () => {
  gw = await startTestGateway({
    editConfig: (c) => {
      laneConfig(c);
      // A line that waits 10 s before it goes out: time to cancel a job still in it, even on a busy machine.
      c.edit('provider_settings.json', (p) => (p['batch'] = { ...p['batch'], max_age_ms: 10_000 }));
    },
  });
  await gw.simulator.setKnobs({ openai: { batch: { completion_delay_ms: 3000 } }, anthropic: { batch: { completion_delay_ms: 3000 } } });
  const [early, late] = await submitAll(2, 3600);
  const reserved = async () => (await gw!.client.request<{ month: { reserved_usd: number } }>('GET', '/v1/budget')).body.month.reserved_usd;
  await eventually(async () => (await gw!.client.request<Job & { waiting: { reason: string } | null }>('GET', `/v1/jobs/${early}`)).body.waiting?.reason === 'batch', 10_000, 'both jobs in the lane');
  await eventually(async () => (await gw!.client.request<Job & { waiting: { reason: string } | null }>('GET', `/v1/jobs/${late}`)).body.waiting?.reason === 'batch', 10_000, 'both jobs in the lane');
  const bothHeld = await reserved();
  const cancelled = await gw.client.request<Job>('DELETE', `/v1/jobs/${early}`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  expect(await reserved()).toBeLessThan(bothHeld);
  // The other goes out with its batch: from then on it cannot be cancelled, and completes.
  await eventually(async () => (await batchCounts()).batch_items_by_job[late!] === 1, 30_000, 'the batch sent');
  const refused = await gw.client.request<{ error: { code: string } }>('DELETE', `/v1/jobs/${late}`);
  expect([refused.status, refused.body.error.code]).toEqual([409, 'job_not_cancellable']);
  const [done] = [...(await gw.client.waitForAll([late!], { timeoutMs: 30_000 })).values()] as unknown as Job[];
  expect([done!.status, done!.lane]).toEqual(['completed', 'batch']);
  expect((await batchCounts()).batch_items_by_job[early!]).toBeUndefined();
  expect(await reserved()).toBe(0);
}, 90_000);
