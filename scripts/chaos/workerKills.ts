/**
 * Scenarios a and b: workers SIGKILLed mid-load. (a) Nothing is lost or stored twice, crash-hit
 * jobs finish within the lock time plus 15 s, holds return to 0, and the ledger covers what the
 * provider billed. (b) On a tight budget, what the provider billed stays under the cap and no job
 * that reached the provider is stored as rejected.
 */
import type { Rig, ChaosContext } from './harness.ts';
import { activeJobs, callsByJob, retryingClient, holdTtlBoundMs, shortCalls, chaosConfig, chaosSubmissions, describeCounts, ledger, rigBilled, settle, statusCounts, storedFinished, storedRows, submitLoad, waitFor, withRig } from './harness.ts';
import { check, outcomeOf, seconds, usd, type Check, type ScenarioResult } from './verdict.ts';

/** How often every worker runs the reaper (apps/worker/main.ts REAP_INTERVAL_MS). */
const REAP_INTERVAL_MS = 5000;
/** What the gateway promises after a crash: the job lock's time, plus this. */
const CRASH_MARGIN_MS = 15_000;
const JITTER = { kind: 'lognormal', p50_ms: 300, p95_ms: 1200 } as const;

/** One SIGKILL: when, and the jobs active (on any worker) just before it. */
interface Kill {
  at: number;
  active: Set<string>;
}

/** Kills the oldest running worker and starts a replacement, so the number of workers stays the same. */
async function killOne(rig: Rig, workerEnv: NodeJS.ProcessEnv): Promise<Kill> {
  const active = new Set((await activeJobs(rig.probe)).map((j) => j.id));
  const [victim] = rig.liveWorkers();
  if (!victim) throw new Error('no live worker to kill');
  const at = Date.now();
  await victim.kill();
  await rig.gw.system.addWorkerWith(workerEnv);
  return { at, active };
}

/** Options shared by both scenarios. */
interface KillRun {
  tag: string;
  jobs: number;
  kills: number;
  lockMs: number;
  budget: Record<string, unknown>;
  /**
   * Spreads the kills over the spend instead of the jobs: the k-th once the month's spent plus
   * reserved reaches k/(kills+1) of this, micro-dollars (a tight budget refuses most jobs late).
   */
  spreadOverMicros?: number;
}

/** Submits the load, kills `kills` times spread over it, waits for every job. */
async function runKills(rig: Rig, run: KillRun, ctx: ChaosContext) {
  const workerEnv = { WORKER_LOCK_MS: String(run.lockMs) };
  const client = retryingClient(rig);
  const loading = submitLoad(client, chaosSubmissions(run.tag, run.jobs));
  const kills: Kill[] = [];
  for (let k = 1; k <= run.kills; k++) {
    // Spread the kills over the run: the k-th once k/(kills+1) of the jobs have finished (or of the spend).
    const share = k / (run.kills + 1);
    const reached = await waitFor(async () => {
      const c = await rig.probe.queue.getJobCounts('active');
      if ((c.active ?? 0) === 0) return false;
      if (run.spreadOverMicros === undefined) return storedFinished(rig.dbPath).size >= Math.floor(share * run.jobs);
      const l = await ledger(rig.probe);
      return l.spent + l.reserved >= share * run.spreadOverMicros;
    }, 120_000, 100);
    if (!reached) break;
    const kill = await killOne(rig, workerEnv);
    kills.push(kill);
    ctx.say(`SIGKILL ${k}/${run.kills} with ${kill.active.size} jobs active on the workers`);
  }
  const submitted = await loading;
  const settled = await settle(rig.gw.client, submitted.ids, { timeoutMs: 240_000, idleMs: 60_000 });
  return { submitted, settled, kills, retried: client.retried };
}

/**
 * How long after the kill that hit it each crash-hit job finished, milliseconds. A job is
 * crash-hit when it was active on the workers at a kill before it finished (its worker's lock
 * then lapses); the kill that hit it is the first such one. When it finished is its stored
 * `completed_at` (the store keeps it; BullMQ forgets a completed job after an hour).
 */
function crashHitDelays(rig: Rig, ids: readonly string[], kills: Kill[]): number[] {
  const finished = storedFinished(rig.dbPath);
  const delays: number[] = [];
  for (const id of ids) {
    const finishedAt = finished.get(id)?.completedAtMs ?? Number.POSITIVE_INFINITY;
    const hit = kills.find((k) => k.active.has(id) && k.at < finishedAt);
    if (hit) delays.push(finishedAt - hit.at);
  }
  return delays;
}

/** Waits for the dead holds to be reaped, then reads the ledger and the billed usage. */
async function books(rig: Rig) {
  await waitFor(async () => (await ledger(rig.probe)).holds === 0, holdTtlBoundMs(rig.gw.config.dir) + REAP_INTERVAL_MS + 10_000);
  return { ledger: await ledger(rig.probe), billed: await rigBilled(rig) };
}

/** Runs `run` on a fresh rig of 2 workers (lock `run.lockMs`, short calls, 5 s hold TTL); `body` judges it. */
function killScenario<T>(run: KillRun, ctx: ChaosContext, body: (rig: Rig, outcome: Awaited<ReturnType<typeof runKills>> & Awaited<ReturnType<typeof books>>) => Promise<T>): Promise<T> {
  return withRig(
    {
      workers: 2,
      env: { WORKER_LOCK_MS: String(run.lockMs) },
      simulatorKnobs: { openai: { latency: JITTER }, anthropic: { latency: JITTER } },
      editConfig: (c) => {
        chaosConfig(c, { ...run.budget, reservation_ttl_ms: 5000 });
        shortCalls(c);
      },
    },
    async (rig) => {
      const outcome = await runKills(rig, run, ctx);
      return body(rig, { ...outcome, ...(await books(rig)) });
    },
  );
}

/** Scenario a. */
export async function sigkillWorkers(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const run: KillRun = { tag: 'a', jobs: ctx.quick ? 300 : 2000, kills: ctx.quick ? 2 : 5, lockMs: 5000, budget: { monthly_usd: 100_000 } };
  return killScenario(run, ctx, async (rig, { submitted, settled, kills, retried, ledger: l, billed }) => {
    const ids = submitted.ids;
    const counts = statusCounts(settled);
    const rows = storedRows(rig.dbPath, ids);
    const delays = crashHitDelays(rig, ids, kills);
    const bound = run.lockMs + CRASH_MARGIN_MS;
    const worst = delays.length > 0 ? Math.max(...delays) : 0;
    // The snapshot holds the survivors' jobs too: a job that waited for a lapsed lock proves the
    // victim's jobs were among those measured.
    const waitedForLock = delays.filter((d) => d >= run.lockMs / 2).length;
    const checks: Check[] = [
      check('accepted', `${ids.length} / ${run.jobs}`, `= ${run.jobs}`, ids.length === run.jobs),
      check('completed', `${counts.completed ?? 0} (${describeCounts(counts)})`, `= ${ids.length}`, (counts.completed ?? 0) === ids.length),
      check('stored: one completed row each', `${rows.exactlyOne} rows (${describeCounts(rows.statuses)})`, `= ${ids.length} completed`, rows.exactlyOne === ids.length && rows.statuses.completed === ids.length),
      check('SIGKILLs done', kills.length, `= ${run.kills}`, kills.length === run.kills),
      check('crash-hit jobs: slowest done after its kill', `${seconds(worst)} (${delays.length} jobs active at a kill, ${waitedForLock} of them waited for its lock)`, `<= ${seconds(bound)} (lock + 15 s), >= 1 waited`, waitedForLock > 0 && worst <= bound),
      check('budget holds after', l.holds, '= 0', l.holds === 0 && l.reserved === 0),
      check('ledger (spent, charged incl.) vs billed', `${usd(l.spent)} (charged ${usd(l.charged)}) vs ${usd(billed.micros)}`, '>= billed', l.spent >= billed.micros),
    ];
    return { id: 'a', did: `${kills.length} SIGKILLs of 2 workers (lock ${run.lockMs / 1000} s) during ${run.jobs} jobs`, checks, outcome: outcomeOf(checks), note: `${billed.calls} billed answers for ${ids.length} jobs; intake 503s retried: ${retried}` };
  });
}

/** Scenario b. */
export async function tightBudgetKills(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const limitUsd = ctx.quick ? 2 : 4;
  const run: KillRun = { tag: 'b', jobs: ctx.quick ? 250 : 500, kills: 2, lockMs: 5000, budget: { monthly_usd: limitUsd, on_exhausted: 'reject' }, spreadOverMicros: limitUsd * 1_000_000 };
  return killScenario(run, ctx, async (rig, { submitted, settled, kills, retried, ledger: l, billed }) => {
    const counts = statusCounts(settled);
    const calls = await callsByJob(rig.gw.system.simulatorUrl);
    const rejected = [...settled.done.entries()].filter(([, j]) => j.status === 'rejected');
    const paidRejected = rejected.filter(([id]) => (calls.get(id) ?? 0) > 0);
    const limitMicros = limitUsd * 1_000_000;
    const unfinished = settled.pending.length + settled.missing.length;
    const checks: Check[] = [
      check('SIGKILLs done', kills.length, `= ${run.kills}`, kills.length === run.kills),
      check('billed by the provider', usd(billed.micros), `<= ${usd(limitMicros)}`, billed.micros <= limitMicros),
      check('ledger vs billed', `${usd(l.spent)} (charged ${usd(l.charged)})`, '>= billed', l.spent >= billed.micros),
      check('rejected jobs that reached the provider', `${paidRejected.length} of ${rejected.length} rejected`, '= 0', paidRejected.length === 0),
      check('jobs finished', `${submitted.ids.length - unfinished} of ${submitted.ids.length} (${describeCounts(counts)}; ${submitted.refused.length} refused at intake)`, `= ${submitted.ids.length}`, unfinished === 0),
    ];
    return { id: 'b', did: `$${limitUsd} budget, ${run.jobs} jobs, 2 workers, ${kills.length} SIGKILLs`, checks, outcome: outcomeOf(checks), note: `intake 503s retried: ${retried}` };
  });
}
