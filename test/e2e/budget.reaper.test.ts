import { afterEach, describe, expect, test } from 'vitest';
import { CRASH_AFTER_ANSWER_KEPT_ENV, NO_CRASH_ENV, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { budgetProbe, costMicrosOf, finishedJobs, payingConfig, submitAll, type BudgetProbe } from '../helpers/budget.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

let gw: TestGateway | undefined;
let probe: BudgetProbe | undefined;
afterEach(async () => {
  await probe?.close();
  await gw?.stop();
  probe = undefined;
  gw = undefined;
});

const TTL_MS = 3000;
/** How often every worker runs the reaper (apps/worker/main.ts REAP_INTERVAL_MS). */
const REAP_INTERVAL_MS = 5000;
/** Slack for process scheduling and the test's 100 ms polling, generous for a busy machine. */
const MARGIN_MS = 5000;

describe('budget holds of a crashed worker', () => {
  test('a worker SIGKILLed holding 10 reservations: the reaper charges them (not returns them); the rerun settling a kept answer corrects it to the real cost', async () => {
    gw = await startTestGateway({
      // The worker kills itself (SIGKILL) right after keeping its first paid answer in the job,
      // while its other calls are still at the provider. Short locks so the replacement takes over.
      env: { WORKER_CONCURRENCY: '10', WORKER_LOCK_MS: '2000', ...CRASH_AFTER_ANSWER_KEPT_ENV },
      // Spread answers: the first comes back while most others are still in flight.
      simulatorKnobs: { openai: { latency: { kind: 'lognormal', p50_ms: 1200, p95_ms: 2500 } }, anthropic: { latency: { kind: 'lognormal', p50_ms: 1200, p95_ms: 2500 } } },
      editConfig: (c) => {
        payingConfig(c, { reservation_ttl_ms: TTL_MS });
        // A hold lives at least as long as the longest call it pays for: keep calls short and unretried.
        c.edit('provider_settings.json', (json) => {
          for (const p of Object.values(json.providers) as Array<Record<string, unknown>>) {
            p.timeout_ms = 3500;
            p.retry = { max_retries: 0, initial_delay_ms: 50, max_delay_ms: 200, max_retry_after_ms: 10_000 };
          }
        });
      },
    });
    probe = budgetProbe(gw);
    const submissions = Array.from({ length: 10 }, (_, i) => ({ ...careerSubmission(i), user_id: `reaper-${i}` }));
    const { ids } = await submitAll(gw.client, submissions, 10);
    expect(ids).toHaveLength(10);

    const [doomed] = gw.system.processes.filter((p) => p.name === 'worker');
    await eventually(async () => doomed!.child.exitCode !== null || doomed!.child.signalCode !== null, 30_000, 'the worker to kill itself');
    const killedAt = Date.now();
    // Nothing reruns until the dead holds are reaped, so the rerun's settle meets charged holds.
    await probe.queue.pause();

    const holdsKey = `${probe.prefix}:budget:holds`;
    const deadHolds = await probe.redis.zrange(holdsKey, '0', '-1', 'WITHSCORES');
    const deadIds = deadHolds.filter((_, k) => k % 2 === 0);
    const latestExpiry = Math.max(...deadHolds.filter((_, k) => k % 2 === 1).map(Number));
    const amounts = new Map(await Promise.all(deadIds.map(async (id) => [id, Number(await probe!.redis.hget(`${probe!.prefix}:budget:hold:${id}`, 'amount'))] as const)));
    const heldMicros = [...amounts.values()].reduce((a, b) => a + b, 0);
    expect(deadIds).toHaveLength(10);

    // Which dead runs had kept their paid answer in the job before dying.
    const keptHold = new Map<string, { holdId: string; costMicros: number }>();
    for (const id of ids) {
      const answer = (await probe.queue.getJob(id))?.data.answer;
      if (answer?.holdId) keptHold.set(id, { holdId: answer.holdId, costMicros: answer.costMicros });
    }
    const keptIds = new Set([...keptHold.values()].map((k) => k.holdId));
    expect(keptIds.size).toBeGreaterThanOrEqual(1);
    expect(keptIds.size).toBeLessThan(10);
    expect([...keptIds].every((h) => amounts.has(h))).toBe(true);

    await gw.system.addWorkerWith({ WORKER_LOCK_MS: '2000', ...NO_CRASH_ENV });
    await eventually(
      async () => (await probe!.store.snapshot()).holds === 0,
      latestExpiry + REAP_INTERVAL_MS + MARGIN_MS - Date.now(),
      'the dead worker’s holds to be reaped',
    );
    const chargedAt = Date.now();
    const reaped = await probe.store.snapshot();
    const reapedMarkers = await Promise.all(deadIds.map((id) => probe!.redis.get(`${probe!.prefix}:budget:settled:${id}`)));
    // Charged at their reserved amounts, not returned: any of them may have been paid.
    expect(reapedMarkers.every((m) => m?.startsWith('charged:'))).toBe(true);
    expect(reaped.month).toMatchObject({ spent: heldMicros, charged: heldMicros, reserved: 0 });
    expect(reaped.day).toMatchObject({ spent: heldMicros, charged: heldMicros, reserved: 0 });
    const shown = (await gw.client.request<{ month: { charged_without_answer_usd: number } }>('GET', '/v1/budget')).body;
    expect(shown.month.charged_without_answer_usd).toBeCloseTo(heldMicros / 1e6, 6);

    await probe.queue.resume();
    const jobs = await finishedJobs(gw.client, ids, 60_000);
    expect(jobs.map((j) => j.status)).toEqual(Array(10).fill('completed'));
    await eventually(async () => (await probe!.store.snapshot()).holds === 0, 30_000, 'the reruns to settle');

    const after = await probe.store.snapshot();
    const markers = new Map(await Promise.all(deadIds.map(async (id) => [id, await probe!.redis.get(`${probe!.prefix}:budget:settled:${id}`)] as const)));
    const unanswered = deadIds.filter((id) => !keptIds.has(id));
    const stillCharged = unanswered.reduce((sum, id) => sum + amounts.get(id)!, 0);
    const books = jobs.reduce((sum, j) => sum + costMicrosOf(j), 0);
    console.log(JSON.stringify({ heldMicros, kept: keptIds.size, chargedAfterKillMs: chargedAt - killedAt, stillChargedMicros: stillCharged, booksMicros: books, spentMicros: after.month.spent }));
    // Kept answers were settled by their reruns: each charge corrected to the answer's real cost.
    expect([...keptIds].every((h) => markers.get(h) === 'settled')).toBe(true);
    for (const [id, kept] of keptHold) expect(costMicrosOf(jobs.find((j) => j.id === id)!)).toBe(kept.costMicros);
    // Calls that died unanswered stay charged at their holds: spend is an upper bound of what was paid.
    expect(unanswered.every((h) => markers.get(h)?.startsWith('charged:'))).toBe(true);
    expect(after.month).toMatchObject({ spent: books + stillCharged, charged: stillCharged, reserved: 0 });
    expect(after.day).toMatchObject({ spent: books + stillCharged, charged: stillCharged, reserved: 0 });
  }, 120_000);
});
