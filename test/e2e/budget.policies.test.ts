import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import { budgetProbe, costMicrosOf, finishedJobs, payingConfig, worstCasesFor, type BudgetJob, type BudgetProbe, type WorstCases } from '../helpers/budget.ts';
import { budgetWindows } from '../../libs/budget/reservation.ts';

let gw: TestGateway | undefined;
let probe: BudgetProbe | undefined;
afterEach(async () => {
  await probe?.close();
  await gw?.stop();
  probe = undefined;
  gw = undefined;
});

describe('when the budget is exhausted', () => {
  test('defer: a job the day cannot afford waits, delayed until the next UTC midnight, with no provider call', async () => {
    gw = await startTestGateway({ editConfig: (c) => payingConfig(c, { on_exhausted: 'defer', daily_usd: 0.000001 }) });
    probe = budgetProbe(gw);
    const submittedAt = Date.now();
    const id = await gw.client.submit(submissionFor('claude', 1));

    await eventually(async () => (await probe!.queue.getJob(id))?.getState().then((s) => s === 'delayed') ?? false, 10_000, 'the job to be delayed');
    // Nothing may happen to it for a while: give the workers a few seconds to (wrongly) fail, reject or call.
    await new Promise((resolve) => setTimeout(resolve, 3000));

    const job = (await probe.queue.getJob(id))!;
    expect(await job.getState()).toBe('delayed');
    const score = await probe.redis.zscore(`${probe.prefix}:llm-jobs:delayed`, id);
    const dueAt = Math.floor(Number(score) / 0x1000); // BullMQ keeps timestamp * 4096 (+ a tie-breaker) as the score
    // The day window that refused it ends at the next UTC midnight (if the test straddles midnight, the later one).
    const midnights = [budgetWindows(new Date(submittedAt)).dayEndsAt, budgetWindows(new Date()).dayEndsAt];
    expect(midnights).toContain(dueAt);
    expect(job.delay).toBeGreaterThan(0);
    expect(job.attemptsMade).toBe(0); // a deferral is not a failed attempt

    const visible = await gw.client.get(id);
    expect(visible.body).toMatchObject({ status: 'queued', error: null });
    expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 0 });
    const budget = await probe.store.snapshot();
    expect(budget).toMatchObject({ holds: 0, month: { spent: 0, reserved: 0 }, day: { spent: 0, reserved: 0 } });
    console.log(JSON.stringify({ dueAt: new Date(dueAt).toISOString(), delayMs: job.delay }));
  });

  test('downgrade: a GPT-4 user on a budget that affords only Claude is served by Claude (a downgrade); a Claude user keeps Claude (served_by provider)', async () => {
    const submission = submissionFor('gpt4', 1);
    let worst: WorstCases | undefined;
    let limitMicros = 0;
    gw = await startTestGateway({
      editConfig: (c) => {
        worst = worstCasesFor(c.dir, submission);
        const claude = worst.byModel.find((m) => m.provider === 'anthropic')!.micros;
        // Halfway between Claude's worst case and the GPT-4 chain's: only Claude fits.
        limitMicros = Math.floor((claude + worst.chainMicros) / 2);
        payingConfig(c, { on_exhausted: 'downgrade', monthly_usd: limitMicros / 1_000_000 });
      },
    });
    probe = budgetProbe(gw);
    const gpt4 = worst!.byModel.find((m) => m.provider === 'openai')!.micros;
    const claude = worst!.byModel.find((m) => m.provider === 'anthropic')!.micros;
    expect(worst!.variant).toBe('gpt4');
    expect(worst!.chainMicros).toBe(gpt4); // a gpt4 job reserves the largest worst case of its failover chain
    expect(claude).toBeLessThanOrEqual(limitMicros);
    expect(gpt4).toBeGreaterThan(limitMicros);

    const id = await gw.client.submit(submission);
    const [job] = (await finishedJobs(gw.client, [id], 20_000)) as [BudgetJob];
    expect(job).toMatchObject({ status: 'completed', provider: 'anthropic', model: 'claude-3-5-sonnet-20241022', experiment: { variant: 'gpt4' }, served_by: 'downgrade' });
    expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 1 });
    const budget = await probe.store.snapshot();
    expect(budget.month.spent).toBe(costMicrosOf(job));
    expect(budget.month.spent).toBeLessThanOrEqual(limitMicros);
    expect(budget).toMatchObject({ holds: 0, month: { reserved: 0 } });
    console.log(JSON.stringify({ inputTokens: worst!.inputTokens, claudeWorst: claude, gpt4Worst: gpt4, limitMicros, costMicros: budget.month.spent }));

    // A Claude user on the same budget: the hold for Claude's whole chain (GPT-4 as its failover)
    // is refused, but Claude itself fits, so Claude answers as the variant's own model and the
    // job stays in the model comparison.
    const claudeId = await gw.client.submit(submissionFor('claude', 2));
    const [claudeJob] = (await finishedJobs(gw.client, [claudeId], 20_000)) as [BudgetJob];
    expect(claudeJob).toMatchObject({ status: 'completed', provider: 'anthropic', experiment: { variant: 'claude' }, served_by: 'provider' });
    expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 2 });
    const after = await probe.store.snapshot();
    expect(after.month.spent).toBe(costMicrosOf(job) + costMicrosOf(claudeJob));
    expect(after.month.spent).toBeLessThanOrEqual(limitMicros);
  });
});
