/**
 * Scenario e: OpenAI down, up, down again under steady load (Anthropic stays up). Every job ends
 * completed — by its provider, failover, a cached or generic answer, or the degraded answer, as
 * the README's job path allows — and the shared breaker opens in each outage and closes after.
 */
import type { ChaosContext, Rig } from './harness.ts';
import { chaosConfig, chaosSubmission, retryingClient, describeCounts, settle, statusCounts, withRig } from './harness.ts';
import { check, outcomeOf, type ScenarioResult } from './verdict.ts';

/** Jobs submitted per second through the run. */
const RATE_PER_S = 8;
/** Milliseconds an open breaker waits before a trial call (short, so recovery shows within an up phase). */
const HALF_OPEN_AFTER_MS = 2000;

/** Submits RATE_PER_S jobs a second until stopped; returns the accepted ids and refusals. */
function steadyLoad(rig: Rig) {
  const ids: string[] = [];
  const refused: string[] = [];
  let running = true;
  let n = 0;
  const client = retryingClient(rig);
  const loop = (async () => {
    const pending: Array<Promise<void>> = [];
    while (running) {
      const submission = chaosSubmission('e', n++);
      pending.push(
        client.request<{ id?: string; error?: { code: string } }>('POST', '/v1/jobs', submission).then(
          (a) => void (a.status === 202 && a.body.id ? ids.push(a.body.id) : refused.push(`${a.status} ${a.body.error?.code ?? ''}`.trim())),
          (e: unknown) => void refused.push(`no answer (${e instanceof Error ? e.message : String(e)})`),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000 / RATE_PER_S));
    }
    await Promise.all(pending);
  })();
  return {
    ids,
    refused,
    client,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Breaker transitions of `provider` the workers logged, in order (e.g. ['closed->open', 'open->half_open']). */
function transitions(rig: Rig, provider: string): string[] {
  const out: string[] = [];
  for (const { line } of rig.lines) {
    if (!line.includes('breaker_transition')) continue;
    try {
      const e = JSON.parse(line) as { event?: string; provider?: string; from?: string; to?: string };
      if (e.event === 'breaker_transition' && e.provider === provider) out.push(`${e.from}->${e.to}`);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** The breaker state /metrics shows for `provider` (0 closed, 1 half-open, 2 open), or null. */
async function breakerMetric(rig: Rig, provider: string): Promise<number | null> {
  const text = await (await fetch(`${rig.gw.system.apiUrl}/metrics`)).text();
  const match = text.match(new RegExp(`^gateway_breaker_state\\{provider="${provider}"\\} (\\d)`, 'm'));
  return match ? Number(match[1]) : null;
}

/** Scenario e. */
export async function providerOutage(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const downMs = ctx.quick ? 10_000 : 30_000;
  return withRig(
    {
      workers: 2,
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 100 } }, anthropic: { latency: { kind: 'fixed', ms: 100 } } },
      editConfig: (c) => {
        chaosConfig(c, { monthly_usd: 100_000 });
        c.edit('provider_settings.json', (json) => {
          for (const p of Object.values(json.providers) as Array<{ breaker: Record<string, number> }>) p.breaker.half_open_after_ms = HALF_OPEN_AFTER_MS;
        });
      },
    },
    async (rig) => {
      const load = steadyLoad(rig);
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      try {
        await pause(3000);
        for (const [i, down] of [true, false, true].entries()) {
          await rig.gw.simulator.setKnobs({ openai: { down } });
          ctx.say(`openai ${down ? 'down' : 'up'} (${i + 1}/3)`);
          await pause(downMs);
        }
        await rig.gw.simulator.setKnobs({ openai: { down: false } });
        ctx.say('openai up');
        // Load continues while the breaker finds the provider back.
        await pause(HALF_OPEN_AFTER_MS + 5000);
      } finally {
        await load.stop();
      }
      const settled = await settle(rig.gw.client, load.ids, { timeoutMs: 120_000, idleMs: 45_000 });
      const counts = statusCounts(settled);
      const servedBy: Record<string, number> = {};
      for (const job of settled.done.values()) servedBy[String(job.served_by)] = (servedBy[String(job.served_by)] ?? 0) + 1;
      const moves = transitions(rig, 'openai');
      const opened = moves.filter((m) => m.endsWith('->open')).length;
      const closed = moves.filter((m) => m.endsWith('->closed')).length;
      const finalState = await breakerMetric(rig, 'openai');
      const checks = [
        check('jobs completed', `${counts.completed ?? 0} / ${load.ids.length} (${describeCounts(counts)})`, `= ${load.ids.length}`, load.ids.length > 0 && (counts.completed ?? 0) === load.ids.length),
        check('refused at intake', load.refused.length === 0 ? '0' : `${load.refused.length} (${load.refused.join(', ')})`, '= 0', load.refused.length === 0),
        check('openai breaker opened / closed (worker logs)', `${opened} / ${closed}`, '>= 2 / >= 2', opened >= 2 && closed >= 2),
        check('openai breaker at the end (/metrics)', finalState === null ? 'absent' : String(finalState), '= 0 (closed)', finalState === 0),
      ];
      return { id: 'e', did: `openai down ${downMs / 1000} s, up ${downMs / 1000} s, down ${downMs / 1000} s at ${RATE_PER_S} jobs/s`, checks, outcome: outcomeOf(checks), note: `served_by: ${describeCounts(servedBy)}; intake 503s retried: ${load.client.retried}` };
    },
  );
}
