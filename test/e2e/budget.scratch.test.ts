import { test } from 'vitest';
import { startTestGateway } from '../helpers/gateway.ts';
import { finishedJobs, payingConfig, submitAll, costMicrosOf, budgetProbe } from '../helpers/budget.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

test('calibrate', async () => {
  const gw = await startTestGateway({ workers: 4, env: { WORKER_CONCURRENCY: '50' }, editConfig: (c) => payingConfig(c, { monthly_usd: 5000 }) });
  try {
    await gw.simulator.setKnobs({ openai: { latency: { kind: 'lognormal', p50_ms: 50, p95_ms: 200 } }, anthropic: { latency: { kind: 'lognormal', p50_ms: 50, p95_ms: 200 } } });
    const t0 = Date.now();
    const subs = Array.from({ length: 2000 }, (_, i) => ({ ...careerSubmission(i), user_id: `race-${i}` }));
    const { ids, refused } = await submitAll(gw.client, subs, 50);
    const t1 = Date.now();
    const jobs = await finishedJobs(gw.client, ids);
    const t2 = Date.now();
    const costs = jobs.map(costMicrosOf);
    const sum = costs.reduce((a, b) => a + b, 0);
    const probe = budgetProbe(gw);
    const snap = await probe.store.snapshot();
    await probe.close();
    const by: Record<string, number> = {};
    for (const j of jobs) by[`${j.status}/${j.provider}`] = (by[`${j.status}/${j.provider}`] ?? 0) + 1;
    console.log(JSON.stringify({ refused: refused.length, submitMs: t1 - t0, doneMs: t2 - t0, sum, spent: snap.month.spent, by, min: Math.min(...costs), max: Math.max(...costs) }));
  } finally {
    await gw.stop();
  }
}, 300_000);
