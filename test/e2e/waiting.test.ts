/**
 * With real processes, a job held back by a provider's rate limit or by a provider's retry-after
 * says so in `waiting`, with the time it is due.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { eventually, startTestGateway, submissionFor, type TestGateway } from '../helpers/gateway.ts';
import { payingConfig } from '../helpers/budget.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

type Waiting = { reason: string; until: string } | null;
const waitingOf = async (id: string) => ((await gw!.client.get(id)).body as unknown as { status: string; waiting: Waiting });

describe('a waiting job says why', () => {
  test("a provider's rate limit: rate_limit, due within the limit's minute", async () => {
    gw = await startTestGateway({
      editConfig: (c) => {
        payingConfig(c, {});
        c.edit('rate_limits.json', (json) => {
          json.providers.anthropic = { rpm: 1, tpm: 1_000_000_000 };
        });
      },
    });
    const ids = [await gw.client.submit(submissionFor('claude', 1)), await gw.client.submit(submissionFor('claude', 2))];
    let held: { status: string; waiting: Waiting } | undefined;
    await eventually(
      async () => {
        for (const id of ids) {
          const shown = await waitingOf(id);
          if (shown.waiting?.reason === 'rate_limit') held = shown;
        }
        return held !== undefined;
      },
      20_000,
      'a job to wait for the rate limit',
    );
    expect(held!.status).toBe('queued');
    const dueInMs = Date.parse(held!.waiting!.until) - Date.now();
    expect(dueInMs).toBeGreaterThan(0);
    expect(dueInMs).toBeLessThanOrEqual(65_000);
  });

  test("a provider's retry-after: retry_after, due when the provider said", async () => {
    gw = await startTestGateway({ editConfig: (c) => payingConfig(c, {}) });
    // Both providers answer 429 with a retry-after beyond what a call waits in place (10 s).
    const busy = { error_rate: 1, error_statuses: [429], retry_after_s: 60 };
    await gw.simulator.setKnobs({ openai: busy, anthropic: busy });
    const submittedAt = Date.now();
    const id = await gw.client.submit(submissionFor('claude', 3));
    await eventually(async () => (await waitingOf(id)).waiting?.reason === 'retry_after', 30_000, 'the job to wait for the retry-after');
    const shown = await waitingOf(id);
    expect(shown.status).toBe('queued');
    const due = Date.parse(shown.waiting!.until);
    expect(due).toBeGreaterThanOrEqual(submittedAt + 59_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 61_000);
  });
});
