import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
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
/** Slack for process scheduling and the test's 100 ms polling. */
const MARGIN_MS = 1500;

interface SimulatorCallsInFlight {
  in_flight: { openai: number; anthropic: number };
  aborted: { openai: number; anthropic: number };
  total: { openai: number; anthropic: number };
}

describe('budget holds of a crashed worker', () => {
  test('a worker SIGKILLed holding 10 reservations: the reaper returns them within their TTL + one reaper interval', async () => {
    gw = await startTestGateway({
      // Short locks so the replacement worker takes the dead worker's jobs over in about 2 s.
      env: { WORKER_CONCURRENCY: '10', WORKER_LOCK_MS: '2000' },
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 3000 } }, anthropic: { latency: { kind: 'fixed', ms: 3000 } } },
      editConfig: (c) => {
        payingConfig(c, { reservation_ttl_ms: TTL_MS });
        // A hold lives at least as long as the longest call it pays for (here 2 x 3.5 s + 1 s),
        // so keep calls short and unretried to keep the test quick.
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

    // All 10 are mid-call at the simulator, each holding its worst case.
    const inFlight = async () => {
      const c = (await gw!.simulator.calls()) as unknown as SimulatorCallsInFlight;
      return c.in_flight.openai + c.in_flight.anthropic;
    };
    await eventually(async () => (await probe!.store.snapshot()).holds === 10 && (await inFlight()) === 10, 10_000, '10 holds and 10 calls in flight');
    const holdsKey = `${probe.prefix}:budget:holds`;
    const deadHolds = await probe.redis.zrange(holdsKey, '0', '-1', 'WITHSCORES');
    const deadIds = deadHolds.filter((_, k) => k % 2 === 0);
    const latestExpiry = Math.max(...deadHolds.filter((_, k) => k % 2 === 1).map(Number));
    const before = await probe.store.snapshot();
    expect(before.month.reserved).toBeGreaterThan(0);

    const [doomed] = gw.system.processes.filter((p) => p.name === 'worker');
    await doomed!.kill();
    const killedAt = Date.now();
    // The replacement's calls are quick, so its own holds settle long before their TTL: what the
    // reaper finds afterwards is exactly what the dead worker left.
    await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 20 } }, anthropic: { latency: { kind: 'fixed', ms: 20 } } });
    await gw.system.addWorkerWith({ WORKER_LOCK_MS: '2000' });

    const jobs = await finishedJobs(gw.client, ids, 30_000);
    expect(jobs.map((j) => j.status)).toEqual(Array(10).fill('completed'));

    await eventually(
      async () => {
        const s = await probe!.store.snapshot();
        return s.holds === 0 && s.month.reserved === 0 && s.day.reserved === 0;
      },
      latestExpiry + REAP_INTERVAL_MS + MARGIN_MS - Date.now(),
      'the dead worker’s holds to be reaped',
    );
    const returnedAt = Date.now();
    const markers = await Promise.all(deadIds.map((id) => probe!.redis.get(`${probe!.prefix}:budget:settled:${id}`)));
    const after = await probe.store.snapshot();
    const books = jobs.reduce((sum, j) => sum + costMicrosOf(j), 0);
    const calls = (await gw.simulator.calls()) as unknown as SimulatorCallsInFlight;
    console.log(
      JSON.stringify({
        heldMicros: before.month.reserved,
        latestExpiryAfterKillMs: latestExpiry - killedAt,
        returnedAfterKillMs: returnedAt - killedAt,
        returnedAfterExpiryMs: returnedAt - latestExpiry,
        spentMicros: after.month.spent,
        booksMicros: books,
        calls: calls.total,
        aborted: calls.aborted,
      }),
    );
    // Each dead hold was returned by the reaper (not settled, not released), within TTL + one reaper interval.
    expect(markers.every((m) => m?.startsWith('reaped:'))).toBe(true);
    expect(returnedAt).toBeLessThanOrEqual(latestExpiry + REAP_INTERVAL_MS + MARGIN_MS);
    // The books: only the replacement's answers were paid for and counted, each once.
    expect(after.month.spent).toBe(books);
    expect(after.day.spent).toBe(books);
    expect(calls.aborted.openai + calls.aborted.anthropic).toBe(10);
    expect(calls.total.openai + calls.total.anthropic).toBe(20);
  }, 60_000);
});
