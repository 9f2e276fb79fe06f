/**
 * A job deferred by an exhausted budget says so while it waits, and runs as soon as an operator
 * raises the budget: the workers see the config reload and promote it, with no manual step.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import { payingConfig } from '../helpers/budget.ts';
import { budgetWindows } from '../../libs/budget/reservation.ts';

/** Seconds from the config write to the job's completion that the gateway promises. */
const RESUME_WITHIN_MS = 5000;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

interface Shown {
  status: string;
  waiting: { reason: string; until: string } | null;
  result: { text: string } | null;
}

describe('a job deferred by the budget', () => {
  test('reads waiting.reason budget until the budget is raised, then completes within 5 s of the reload', async () => {
    gw = await startTestGateway({ editConfig: (c) => payingConfig(c, { on_exhausted: 'defer', monthly_usd: 0.000001 }) });
    const submittedAt = new Date();
    const id = await gw.client.submit(submissionFor('claude', 1));
    const shown = async () => (await gw!.client.get(id)).body as unknown as Shown;

    await eventually(async () => (await shown()).waiting?.reason === 'budget', 20_000, 'the job to wait for the budget');
    // The month that refused it ends at the next month's start (the later one if the test straddles it).
    const monthEnds = [budgetWindows(submittedAt).monthEndsAt, budgetWindows(new Date()).monthEndsAt].map((ms) => new Date(ms).toISOString());
    const before = await shown();
    expect(before).toMatchObject({ status: 'queued', result: null });
    expect(monthEnds).toContain(before.waiting!.until);
    expect((await gw.simulator.calls()).total).toEqual({ openai: 0, anthropic: 0 });

    const raisedAt = Date.now();
    gw.config.edit('rate_limits.json', (json) => {
      json.budget.monthly_usd = 5000;
    });
    const seen: Shown[] = [];
    await eventually(
      async () => {
        const now = await shown();
        seen.push(now);
        return now.status === 'completed';
      },
      RESUME_WITHIN_MS,
      'the job to complete after the budget was raised',
    );
    const tookMs = Date.now() - raisedAt;
    expect(tookMs).toBeLessThanOrEqual(RESUME_WITHIN_MS);
    // Until it ran, it waited for the budget or only its turn; never a made-up reason.
    for (const s of seen.filter((x) => x.status === 'queued')) expect(s.waiting === null || s.waiting.reason === 'budget').toBe(true);
    const done = seen.at(-1)!;
    expect(done.waiting).toBeNull();
    expect(done.result?.text.length).toBeGreaterThan(0);
    expect((await gw.simulator.calls()).total.anthropic).toBe(1);
    console.log(JSON.stringify({ resumedAfterReloadMs: tookMs, polls: seen.length }));
  });
});
