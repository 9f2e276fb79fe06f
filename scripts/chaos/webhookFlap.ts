/**
 * Scenario f: every job asks for a webhook, and the receiver flaps — it accepts (200), then refuses
 * connections (not listening), then answers 503, round and round. Every job's terminal webhook is
 * eventually accepted; the README promises at-least-once delivery with a stable `webhook-id`
 * (receivers deduplicate), so a job accepted twice is reported, not failed.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../../libs/devkit/processes.ts';
import { deferCleanup } from '../bench/cleanup.ts';
import type { ChaosContext } from './harness.ts';
import { chaosConfig, chaosSubmissions, describeCounts, loggedRedisOutages, retryingClient, settle, statusCounts, submitLoad, waitFor, withRig } from './harness.ts';
import { check, outcomeOf, type ScenarioResult } from './verdict.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
/** The receiver's cycle: how long each phase lasts, milliseconds. */
const PHASES = [
  { kind: 'accept', ms: 2000 },
  { kind: 'refuse', ms: 1000 },
  { kind: 'error', ms: 1000 },
] as const;
/** Retry delays of the webhook queue: 11 attempts over about 15 s, so each meets several accept phases. */
const RETRY_DELAYS_MS = '250,500,750,1000,1250,1500,1750,2000,2500,3000';
const TERMINAL = new Set(['job.completed', 'job.failed', 'job.rejected']);

/** What the receiver saw. */
interface Seen {
  /** Accepted (200) deliveries per job id, with their types and webhook-ids. */
  accepted: Map<string, Array<{ type: string; webhookId: string }>>;
  /** Deliveries answered 503. */
  errored: number;
  /** Deliveries whose signature did not verify. */
  badSignatures: number;
}

/** A receiver on `port` that flaps through PHASES until closed. */
async function flappingReceiver(port: number) {
  const seen: Seen = { accepted: new Map(), errored: 0, badSignatures: 0 };
  const verifier = new Webhook(SECRET);
  let phase = 0;
  let server: Server | undefined;
  const listen = async () => {
    if (server) return;
    const s = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (PHASES[phase]!.kind === 'error') {
          seen.errored++;
          return void res.writeHead(503).end();
        }
        try {
          const payload = verifier.verify(body, req.headers as Record<string, string>) as { type: string; data: { id: string } };
          const list = seen.accepted.get(payload.data.id) ?? [];
          list.push({ type: payload.type, webhookId: String(req.headers['webhook-id']) });
          seen.accepted.set(payload.data.id, list);
          res.writeHead(200).end();
        } catch {
          seen.badSignatures++;
          res.writeHead(400).end();
        }
      });
    });
    server = s;
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
  };
  const unlisten = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const advance = async () => {
    if (stopped) return;
    phase = (phase + 1) % PHASES.length;
    if (PHASES[phase]!.kind === 'refuse') await unlisten();
    else await listen();
    timer = setTimeout(() => void advance(), PHASES[phase]!.ms);
  };
  await listen();
  timer = setTimeout(() => void advance(), PHASES[0].ms);
  return {
    seen,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await unlisten();
    },
  };
}

/** Scenario f. */
export async function webhookFlap(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const jobs = ctx.quick ? 60 : 200;
  const port = await freePort();
  const receiver = await flappingReceiver(port);
  const closeReceiver = deferCleanup('webhook receiver', () => receiver.close());
  try {
    return await withRig(
      {
        workers: 1,
        env: { GATEWAY_CALLBACK_ALLOWLIST: '127.0.0.1', GATEWAY_WEBHOOK_SECRETS: `demo:${SECRET}`, GATEWAY_WEBHOOK_RETRY_DELAYS_MS: RETRY_DELAYS_MS },
        simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 100 } }, anthropic: { latency: { kind: 'fixed', ms: 100 } } },
        editConfig: (c) => chaosConfig(c, { monthly_usd: 100_000 }),
      },
      async (rig) => {
        // Spread over a few receiver cycles: a burst every half second.
        const client = retryingClient(rig);
        const ids: string[] = [];
        const refused: string[] = [];
        const all = chaosSubmissions('f', jobs, { callback_url: `http://127.0.0.1:${port}/hooks/llm` });
        for (let i = 0; i < all.length; i += 10) {
          const batch = await submitLoad(client, all.slice(i, i + 10), 10);
          ids.push(...batch.ids);
          refused.push(...batch.refused.map((r) => `${r.status} ${r.code ?? ''}`.trim()));
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        const settled = await settle(rig.gw.client, ids, { timeoutMs: 120_000, idleMs: 45_000 });
        const counts = statusCounts(settled);
        const seen = receiver.seen;
        await waitFor(async () => ids.every((id) => seen.accepted.has(id)), 60_000, 250);
        const delivered = ids.filter((id) => seen.accepted.has(id));
        const duplicated = ids.filter((id) => (seen.accepted.get(id)?.length ?? 0) > 1);
        const notTerminal = ids.filter((id) => (seen.accepted.get(id) ?? []).some((d) => !TERMINAL.has(d.type) || d.webhookId !== `msg_${id}`));
        const states: Record<string, number> = {};
        let attempts = 0;
        let mostAttempts = 0;
        for (const id of ids) {
          const webhook = (await rig.gw.client.get(id)).body.webhook as { status?: string; attempts?: unknown[] } | null | undefined;
          states[webhook?.status ?? 'none'] = (states[webhook?.status ?? 'none'] ?? 0) + 1;
          attempts += webhook?.attempts?.length ?? 0;
          mostAttempts = Math.max(mostAttempts, webhook?.attempts?.length ?? 0);
        }
        const checks = [
          check('jobs completed', `${counts.completed ?? 0} / ${jobs} (${describeCounts(counts)}${refused.length > 0 ? `; refused at intake: ${refused.join(', ')}` : ''})`, `= ${jobs}`, ids.length === jobs && (counts.completed ?? 0) === jobs),
          check('jobs whose webhook was accepted', `${delivered.length} / ${ids.length}`, `= ${ids.length}`, delivered.length === ids.length),
          check('deliveries not terminal or with another webhook-id', notTerminal.length, '= 0', notTerminal.length === 0),
          check('signatures that did not verify', seen.badSignatures, '= 0', seen.badSignatures === 0),
          check('jobs accepted more than once (at-least-once: reported)', duplicated.length, 'reported', true),
          check('webhook state on the jobs', describeCounts(states), `delivered ${ids.length}`, states.delivered === ids.length),
        ];
        const outages = loggedRedisOutages(rig);
        const note = `${outages.length > 0 ? `Redis outages logged: ${outages.join('; ')}. ` : ''}${attempts} delivery attempts recorded (at most ${mostAttempts} for one job), ${seen.errored} answered 503, the rest of the failures refused connections; intake 503s retried: ${client.retried}`;
        return { id: 'f', did: `${jobs} jobs with webhooks; the receiver flaps accept 2 s / refuse 1 s / 503 1 s`, checks, outcome: outcomeOf(checks), note };
      },
    );
  } finally {
    await closeReceiver();
  }
}
