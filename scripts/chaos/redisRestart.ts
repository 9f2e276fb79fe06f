/**
 * Scenario d: Redis restarted empty (SIGKILL, started again with no data) while jobs are in
 * flight. What the gateway promises: every accepted job completes (the store's intake record is
 * re-enqueued by the reconciler), the month's spend afterwards is at least what it was before
 * (rebuilt from the store's per-job costs), and a repeated Idempotency-Key returns the same job.
 */
import type { ChaosContext } from './harness.ts';
import { callsByJob, chaosConfig, retryingClient, chaosSubmission, describeCounts, ledger, settle, statusCounts, storedFinished, waitFor, withRig } from './harness.ts';
import { submitAll } from '../../test/helpers/budget.ts';
import { check, outcomeOf, usd, type ScenarioResult } from './verdict.ts';

/** Repeated keyed POSTs after the restart. */
const REPEATS = 10;

/** Scenario d. */
export async function redisRestart(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const jobs = ctx.quick ? 150 : 500;
  return withRig(
    {
      workers: 2,
      env: { WORKER_CONCURRENCY: '25' },
      // Long enough calls that most jobs are waiting or in flight when Redis loses everything.
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 1500 } }, anthropic: { latency: { kind: 'fixed', ms: 1500 } } },
      editConfig: (c) => chaosConfig(c, { monthly_usd: 100_000 }),
    },
    async (rig) => {
      const submissions = Array.from({ length: jobs }, (_, i) => chaosSubmission('d', i));
      const keyOf = (i: number) => `chaos-d-${rig.gw.system.queuePrefix}-${i}`;
      const post = (i: number) => rig.gw.client.request<{ id?: string }>('POST', '/v1/jobs', submissions[i], { 'idempotency-key': keyOf(i) });
      const submitted = await submitAll(retryingClient(rig), submissions, 20, (i) => ({ 'idempotency-key': keyOf(i) }));
      // submitAll keeps the accepted ids in submission order, leaving the refused indexes out.
      const refused = new Set(submitted.refused.map((r) => r.index));
      const acceptedIndexes = submissions.map((_, i) => i).filter((i) => !refused.has(i));
      const accepted = submitted.ids.map((id, k) => ({ i: acceptedIndexes[k]!, id }));
      // Let some finish (and pay) first, so there is spend to lose.
      const completed = () => [...storedFinished(rig.dbPath)].filter(([, r]) => r.status === 'completed').map(([id]) => id);
      await waitFor(async () => completed().length >= Math.min(40, jobs / 5), 60_000);
      const before = await ledger(rig.probe);
      // Jobs answered (and paid) before the restart: their keys are repeated afterwards.
      const paidIds = new Set(completed());
      const counts0 = { completed: paidIds.size, ...(await rig.probe.queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed')) };
      ctx.say(`restarting Redis empty: ${describeCounts(counts0 as Record<string, number>)}; month spent ${usd(before.spent)}`);
      const paid = accepted.filter((a) => paidIds.has(a.id)).slice(0, REPEATS);
      await rig.redis.stop();
      await rig.redis.start();

      const settled = await settle(rig.gw.client, accepted.map((a) => a.id), { timeoutMs: ctx.quick ? 60_000 : 120_000, idleMs: 30_000 });
      const counts = statusCounts(settled);
      const after = await ledger(rig.probe);
      // A repeated key must answer the job it named, without paying for it again.
      const callsBefore = await callsByJob(rig.gw.system.simulatorUrl);
      const repeats = await Promise.all(paid.map(async (a) => ({ a, answer: await post(a.i) })));
      await settle(rig.gw.client, paid.map((a) => a.id), { timeoutMs: 20_000 });
      const callsAfter = await callsByJob(rig.gw.system.simulatorUrl);
      const same = repeats.filter((r) => r.answer.status < 300 && r.answer.body.id === r.a.id && callsAfter.get(r.a.id) === callsBefore.get(r.a.id)).length;
      const checks = [
        check('accepted', `${accepted.length} / ${jobs}`, `= ${jobs}`, accepted.length === jobs),
        check('accepted jobs completed', `${counts.completed ?? 0} (${describeCounts(counts)})`, `= ${accepted.length}`, (counts.completed ?? 0) === accepted.length),
        check('month spend after vs before', `${usd(after.spent)} vs ${usd(before.spent)}`, '>= before', after.spent >= before.spent),
        check('repeated Idempotency-Key of a paid job: same job, no new call', `${same} / ${repeats.length}`, `= ${repeats.length} (> 0)`, repeats.length > 0 && same === repeats.length),
      ];
      return { id: 'd', did: `Redis restarted empty with ${jobs} jobs accepted (most in flight)`, checks, outcome: outcomeOf(checks) };
    },
  );
}
