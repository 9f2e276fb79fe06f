/**
 * A worker SIGTERMed while its provider calls (12 s each) are out, with a grace shorter than the
 * calls: it exits within the grace, its jobs are back in the queue at once (not after a lock
 * expiry), its holds charged (the provider may bill an aborted call), and another worker completes
 * every job. Every call the provider may have billed is in the ledger. On the way, SIGHUP reloads
 * the config of a worker in the middle of its calls and leaves it running.
 */
import { describe, expect, onTestFinished, test } from 'vitest';
import { eventually, startTestGateway } from '../helpers/gateway.ts';
import { budgetProbe, costMicrosOf, finishedJobs, payingConfig, worstCasesFor } from '../helpers/budget.ts';
import { careerSubmission } from '../../scripts/demo/profiles.ts';

const GRACE_MS = 5000;
const CALL_MS = 12_000;
/** Slack for signal delivery and process exit on a busy machine. */
const EXIT_MARGIN_MS = 2000;
/** The promise: no job stays active longer than this after its worker exits. */
const ACTIVE_AFTER_EXIT_MS = 5000;

describe('a worker stopped while its provider calls are out', () => {
  test(`exits within WORKER_SHUTDOWN_GRACE_MS, its jobs back in the queue at once and completed by another worker, every paid call in the ledger`, async () => {
    const submissions = [0, 1, 2].map((i) => ({ ...careerSubmission(i), user_id: `shutdown-${i}` }));
    const lines: string[] = [];
    let configDir = '';
    const gw = await startTestGateway({
      // Two jobs in flight, one left waiting; info logs show the SIGHUP reload.
      env: { WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS), WORKER_CONCURRENCY: '2', LOG_LEVEL: 'info' },
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: CALL_MS } }, anthropic: { latency: { kind: 'fixed', ms: CALL_MS } } },
      onLine: (name, line) => name === 'worker' && lines.push(line),
      editConfig: (c) => {
        configDir = c.dir;
        // Every job pays, and only users' jobs call the provider (no generic category answers).
        payingConfig(c, {});
        c.edit('features/career_path_navigator.json', (json) => void delete json.category_fallback);
      },
    });
    const probe = budgetProbe(gw);
    onTestFinished(async () => {
      await probe.close();
      await gw.stop();
    });
    const ids = await Promise.all(submissions.map((s) => gw.client.submit(s)));
    const inFlight = async () => {
      const c = await gw.simulator.calls();
      return c.in_flight.openai + c.in_flight.anthropic;
    };
    await eventually(async () => (await inFlight()) === 2, 30_000, 'two provider calls in flight');
    const [worker] = gw.system.processes.filter((p) => p.name === 'worker');

    // SIGHUP reloads the config; the worker and its calls go on.
    worker!.child.kill('SIGHUP');
    await eventually(async () => lines.some((l) => l.includes('SIGHUP: reloading the config')), 10_000, 'the reload on SIGHUP');
    expect(worker!.child.exitCode).toBeNull();
    expect(await inFlight()).toBe(2);

    const termAt = Date.now();
    await worker!.stop(GRACE_MS + 20_000);
    const exitedAt = Date.now();
    // A clean exit (0, not the forced one at the grace): the aborted jobs' cleanup ended in time.
    expect({ code: worker!.child.exitCode, signal: worker!.child.signalCode }).toEqual({ code: 0, signal: null });
    expect(exitedAt - termAt).toBeLessThan(GRACE_MS + EXIT_MARGIN_MS);

    // Back in the queue at once, no attempt used; holds charged by the worker itself (the reaper
    // would wait for their TTL): both calls were out when aborted.
    await eventually(async () => (await probe.queue.getActiveCount()) === 0, ACTIVE_AFTER_EXIT_MS - (Date.now() - exitedAt), 'no job active');
    const waiting = await Promise.all(ids.map((id) => probe.queue.getJob(id)));
    expect(await Promise.all(waiting.map((j) => j!.getState()))).toEqual(['waiting', 'waiting', 'waiting']);
    expect(waiting.map((j) => j!.attemptsMade)).toEqual([0, 0, 0]);
    const charged = await probe.store.snapshot();
    expect(charged.holds).toBe(0);
    expect(charged.month.reserved).toBe(0);
    expect(charged.month.charged).toBeGreaterThan(0);
    // The SDKs' requests were aborted, not left to run out at the provider.
    await eventually(async () => {
      const c = await gw.simulator.calls();
      return c.aborted.openai + c.aborted.anthropic === 2 && c.in_flight.openai + c.in_flight.anthropic === 0;
    }, 5000, 'both calls aborted at the provider');

    // The next worker runs them at once (fast calls now, to keep the test short).
    await gw.simulator.setKnobs({ openai: { latency: { kind: 'fixed', ms: 0 } }, anthropic: { latency: { kind: 'fixed', ms: 0 } } });
    await gw.system.addWorker();
    const jobs = await finishedJobs(gw.client, ids, 30_000);
    expect(jobs.map((j) => [j.status, j.attempts])).toEqual([
      ['completed', 1],
      ['completed', 1],
      ['completed', 1],
    ]);

    // What the provider may have billed: each job's answer at its real cost, and every other call
    // it saw (the aborted ones) at the worst case of its provider's model, at the config's prices.
    const calls = await gw.simulator.calls();
    let billedMicros = 0;
    for (const [k, job] of jobs.entries()) {
      const worst = worstCasesFor(configDir, submissions[k]!);
      const worstOf = (provider: string) => Math.max(...worst.byModel.filter((m) => m.provider === provider).map((m) => m.micros));
      const seen = calls.by_job[job.id] ?? {};
      const unanswered = { openai: seen.openai ?? 0, anthropic: seen.anthropic ?? 0 };
      unanswered[job.provider as 'openai' | 'anthropic']--;
      billedMicros += costMicrosOf(job) + unanswered.openai * worstOf('openai') + unanswered.anthropic * worstOf('anthropic');
    }
    const after = await probe.store.snapshot();
    console.info(`[shutdown] exited ${exitedAt - termAt} ms after SIGTERM (grace ${GRACE_MS} ms); ledger ${after.month.spent} µ$ (charged ${after.month.charged}) >= billed ${billedMicros} µ$`);
    expect(calls.total.openai + calls.total.anthropic).toBe(5);
    expect(after.month.reserved).toBe(0);
    expect(after.month.spent).toBeGreaterThanOrEqual(billedMicros);
  }, 90_000);
});
