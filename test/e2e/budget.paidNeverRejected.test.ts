import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import { budgetProbe, finishedJobs, payingConfig, worstCasesFor, type BudgetJob, type BudgetProbe, type WorstCases } from '../helpers/budget.ts';

let gw: TestGateway | undefined;
let probe: BudgetProbe | undefined;
afterEach(async () => {
  await probe?.close();
  await gw?.stop();
  probe = undefined;
  gw = undefined;
});

/** How often every worker runs the reaper (apps/worker/main.ts REAP_INTERVAL_MS). */
const REAP_INTERVAL_MS = 5000;
/** Slack for process scheduling and polling, generous for a busy machine. */
const MARGIN_MS = 5000;

describe('a job whose worker died mid-call, then the budget refuses its rerun', () => {
  test('its charged hold keeps spend an upper bound of what was paid, and the job is failed, not rejected', async () => {
    const submission = submissionFor('claude', 1);
    let worst: WorstCases | undefined;
    let limitMicros = 0;
    gw = await startTestGateway({
      env: { WORKER_LOCK_MS: '2000' },
      simulatorKnobs: { anthropic: { latency: { kind: 'fixed', ms: 3000 } }, openai: { latency: { kind: 'fixed', ms: 3000 } } },
      editConfig: (c) => {
        worst = worstCasesFor(c.dir, submission);
        // Room for one worst case, not two: once the dead run's hold is charged, the rerun cannot fit.
        limitMicros = Math.floor(worst.chainMicros * 1.5);
        payingConfig(c, { on_exhausted: 'reject', monthly_usd: limitMicros / 1_000_000, reservation_ttl_ms: 3000 });
        c.edit('provider_settings.json', (json) => {
          for (const p of Object.values(json.providers) as Array<Record<string, unknown>>) {
            p.timeout_ms = 3500;
            p.retry = { max_retries: 0, initial_delay_ms: 50, max_delay_ms: 200, max_retry_after_ms: 10_000 };
          }
        });
      },
    });
    probe = budgetProbe(gw);
    const id = await gw.client.submit(submission);
    const inFlight = async () => {
      const c = await gw!.simulator.calls();
      return c.in_flight.openai + c.in_flight.anthropic;
    };
    await eventually(async () => (await probe!.store.snapshot()).holds === 1 && (await inFlight()) === 1, 15_000, 'the call in flight');
    const [expiry] = (await probe.redis.zrange(`${probe.prefix}:budget:holds`, '0', '-1', 'WITHSCORES')).slice(1).map(Number);

    // The worker dies while the provider is answering (and billing): nobody knows whether it was paid.
    await probe.queue.pause();
    const [doomed] = gw.system.processes.filter((p) => p.name === 'worker');
    await doomed!.kill();
    await gw.system.addWorkerWith({ WORKER_LOCK_MS: '2000' });
    await eventually(async () => (await probe!.store.snapshot()).holds === 0, expiry! + REAP_INTERVAL_MS + MARGIN_MS - Date.now(), 'the dead hold to be charged');
    const charged = await probe.store.snapshot();
    expect(charged.month).toMatchObject({ spent: worst!.chainMicros, charged: worst!.chainMicros, reserved: 0 });

    await probe.queue.resume();
    const [job] = (await finishedJobs(gw.client, [id], 30_000)) as [BudgetJob];
    // Something may have been paid for it: a failure of ours, never a rejection of the request.
    expect(job).toMatchObject({ status: 'failed', error: { code: 'budget_exhausted' } });
    const calls = await gw.simulator.calls();
    expect(calls.total.openai + calls.total.anthropic).toBe(1);
    const after = await probe.store.snapshot();
    expect(after.month).toMatchObject({ spent: worst!.chainMicros, charged: worst!.chainMicros, reserved: 0 });
    expect(after.month.spent).toBeLessThanOrEqual(limitMicros);
    console.log(JSON.stringify({ worstMicros: worst!.chainMicros, limitMicros, spentMicros: after.month.spent, status: job.status, code: job.error?.code }));
  }, 90_000);
});
