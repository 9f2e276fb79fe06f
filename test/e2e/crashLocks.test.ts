/**
 * A worker SIGKILLed in the middle of a provider call leaves its single-flight lock behind; the
 * lock is short and was renewed only while that worker lived, so the job's rerun (and an
 * identical request) take over within seconds instead of waiting out the dead call's budget.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, userJobCalls, type TestGateway } from '../helpers/gateway.ts';

const WORKER_LOCK_MS = 3000;
/** What the gateway promises after a crash: the job lock's time, plus this. */
const CRASH_MARGIN_MS = 15_000;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe('a worker killed mid provider call', () => {
  test(`its jobs complete within WORKER_LOCK_MS + ${CRASH_MARGIN_MS / 1000} s of the kill, paying once more`, async () => {
    gw = await startTestGateway({
      env: { WORKER_LOCK_MS: String(WORKER_LOCK_MS) },
      // No generic category answers: this test counts every provider call.
      editConfig: (c) => c.edit('features/career_path_navigator.json', (json) => void delete json.category_fallback),
    });
    // Calls long enough that the kill lands while the first is in flight, however busy the machine.
    await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 5000 } }, anthropic: { latency: { kind: 'fixed', ms: 5000 } } });
    const submission = submissionFor('gpt4', 7);
    const first = await gw.client.submit(submission);
    await eventually(async () => ((await gw!.simulator.calls()).by_job[first]?.openai ?? 0) > 0, 30_000, 'the provider call to start');
    const [worker] = gw.system.processes.filter((p) => p.name === 'worker');
    await worker!.kill();
    const killedAt = Date.now();
    // An identical request, picked up before the crashed job's rerun: it meets the dead run's lock.
    const second = await gw.client.submit(submission);
    await gw.system.addWorker();

    const jobs = await gw.client.waitForAll([first, second], { timeoutMs: WORKER_LOCK_MS + CRASH_MARGIN_MS + 30_000 });
    const doneAfterMs = Date.now() - killedAt;
    expect([...jobs.values()].map((j) => j.status)).toEqual(['completed', 'completed']);
    expect(doneAfterMs).toBeLessThan(WORKER_LOCK_MS + CRASH_MARGIN_MS);
    // The dead run's call (its client gone) and one call for both jobs after it.
    const calls = await gw.simulator.calls();
    expect(calls.aborted.openai).toBe(1);
    expect(userJobCalls(calls).openai).toBe(2);
    console.info(`[crashLocks] jobs completed ${doneAfterMs} ms after the kill (bound ${WORKER_LOCK_MS + CRASH_MARGIN_MS} ms)`);
  }, 120_000);
});
