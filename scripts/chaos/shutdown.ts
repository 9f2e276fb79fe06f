/**
 * Scenario g: SIGTERM to a worker whose calls outlast its grace (12 s provider calls,
 * WORKER_SHUTDOWN_GRACE_MS=5000). What the gateway promises: at the grace the worker aborts its
 * calls and gives its jobs back, so none stays active (under the stopped worker's lock) more than
 * grace + 5 s after the worker exits; every job completes; every paid call is in the ledger.
 */
import type { ChaosContext, Rig } from './harness.ts';
import { activeJobs, callsByJob, chaosConfig, retryingClient, chaosSubmissions, describeCounts, holdTtlBoundMs, ledger, lockOf, rigBilled, settle, shortCalls, statusCounts, submitLoad, waitFor, withRig, workerOfToken } from './harness.ts';
import { check, outcomeOf, seconds, usd, type ScenarioResult } from './verdict.ts';

const GRACE_MS = 5000;
const CALL_MS = 12_000;
const CONCURRENCY = 10;
/** How often every worker runs the reaper (apps/worker/main.ts REAP_INTERVAL_MS). */
const REAP_INTERVAL_MS = 5000;

/** Polls the stopped worker's jobs until none is held by it; answers when each was last seen held. */
async function watchHeld(rig: Rig, held: Map<string, string>, until: () => boolean): Promise<Map<string, number>> {
  const lastHeld = new Map<string, number>();
  for (;;) {
    const now = Date.now();
    let still = 0;
    for (const [id, worker] of held) {
      const token = await lockOf(rig.probe, id);
      const state = await rig.probe.queue.getJobState(id);
      if (state === 'active' && token !== null && workerOfToken(token) === worker) {
        lastHeld.set(id, now);
        still++;
      }
    }
    if (still === 0 && until()) return lastHeld;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Scenario g. */
export async function shutdownPastGrace(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const jobs = ctx.quick ? 30 : 60;
  const env = { WORKER_CONCURRENCY: String(CONCURRENCY), WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS) };
  return withRig(
    {
      workers: 1,
      env,
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: CALL_MS } }, anthropic: { latency: { kind: 'fixed', ms: CALL_MS } } },
      editConfig: (c) => {
        chaosConfig(c, { monthly_usd: 100_000, reservation_ttl_ms: 5000 });
        // Calls may take their 12 s; holds of a dead run still expire well within the scenario.
        shortCalls(c, CALL_MS + 3000);
      },
    },
    async (rig) => {
      const client = retryingClient(rig);
      const loading = submitLoad(client, chaosSubmissions('g', jobs));
      // The only worker full of calls that have just begun (they outlast any grace under 12 s);
      // its jobs are the active ones. The replacement starts after the SIGTERM.
      const inFlight = async () => {
        const c = await rig.gw.simulator.calls();
        return c.in_flight.openai + c.in_flight.anthropic;
      };
      const full = await waitFor(async () => (await inFlight()) >= CONCURRENCY, 60_000, 50);
      if (!full) throw new Error(`the worker never had ${CONCURRENCY} calls in flight`);
      const held = new Map((await activeJobs(rig.probe)).filter((j) => j.worker !== null).map((j) => [j.id, j.worker!] as const));
      const [stopping] = rig.liveWorkers();
      const termAt = Date.now();
      let exitedAt: number | undefined;
      // SIGTERM; SIGKILL only if it is still running a minute later.
      const exited = stopping!.stop(60_000).then(() => (exitedAt = Date.now()));
      await rig.gw.system.addWorkerWith(env);
      ctx.say(`SIGTERM with ${held.size} calls in flight`);
      const lastHeld = await watchHeld(rig, held, () => exitedAt !== undefined);
      await exited;
      const submitted = await loading;
      const settled = await settle(rig.gw.client, submitted.ids, { timeoutMs: 180_000, idleMs: 60_000 });
      const counts = statusCounts(settled);
      await waitFor(async () => (await ledger(rig.probe)).holds === 0, holdTtlBoundMs(rig.gw.config.dir) + REAP_INTERVAL_MS + 10_000);
      const l = await ledger(rig.probe);
      const billed = await rigBilled(rig);
      const calls = await callsByJob(rig.gw.system.simulatorUrl);
      const twice = submitted.ids.filter((id) => (calls.get(id) ?? 0) > 1).length;
      const exitMs = exitedAt! - termAt;
      const heldAfterExit = Math.max(0, ...[...lastHeld.values()].map((t) => t - exitedAt!));
      const bound = GRACE_MS + 5000;
      const checks = [
        check('worker exit after SIGTERM', seconds(exitMs), `<= ${seconds(bound)} (grace + 5 s)`, exitMs <= bound),
        check('longest a job stayed held after the exit', `${seconds(heldAfterExit)} (${held.size} jobs held at SIGTERM)`, `<= ${seconds(bound)} (grace + 5 s)`, heldAfterExit <= bound),
        check('jobs completed', `${counts.completed ?? 0} / ${jobs} (${describeCounts(counts)})`, `= ${jobs}`, submitted.ids.length === jobs && (counts.completed ?? 0) === jobs),
        check('holds after', l.holds, '= 0', l.holds === 0),
        check('ledger vs billed', `${usd(l.spent)} (charged ${usd(l.charged)}) vs ${usd(billed.micros)}`, '>= billed', l.spent >= billed.micros),
      ];
      const note = `${twice} jobs called the provider more than once; ${billed.calls} billed answers for ${jobs} jobs; intake 503s retried: ${client.retried}`;
      return { id: 'g', did: `SIGTERM a worker with ${CALL_MS / 1000} s calls in flight, WORKER_SHUTDOWN_GRACE_MS=${GRACE_MS}`, checks, outcome: outcomeOf(checks), note };
    },
  );
}
