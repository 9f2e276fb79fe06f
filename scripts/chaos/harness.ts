/**
 * What every fault scenario needs: a gateway on a private redis-server (so a scenario may pause,
 * stop or empty it), load, polling with deadlines, and the figures compared with targets — the
 * ledger in Redis, the simulator's billed usage priced with the config's prices, the stored rows.
 * Everything a rig starts is registered for cleanup, so a failure or Ctrl-C leaves nothing behind.
 */
import { DatabaseSync } from 'node:sqlite';
import type { Job } from 'bullmq';
import { deferCleanup } from '../bench/cleanup.ts';
import type { SystemOptions } from '../../libs/devkit/system.ts';
import type { AppProcess } from '../../libs/devkit/processes.ts';
import type { TempConfig } from '../../libs/config/tempConfig.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { costMicros, priceAt } from '../../libs/budget/cost.ts';
import { allCandidates, chainCallBudgetMs } from '../../libs/pipeline/route.ts';
import { MAX_INLINE_RATE_WAIT_MS } from '../../libs/pipeline/obtainAnswer.ts';
import { GatewayClient, type ApiAnswer } from '../../libs/client/gatewayClient.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { budgetProbe, payingConfig, submitAll, type BudgetProbe, type Submitted } from '../../test/helpers/budget.ts';
import { startPrivateRedis, type PrivateRedis } from '../../test/helpers/privateRedis.ts';
import type { LlmJobData } from '../../libs/queue/jobs.ts';

/** What a scenario is told: which sizes to run, and where to say what it is doing. */
export interface ChaosContext {
  quick: boolean;
  /** Prints a progress line under the scenario's letter. */
  say(message: string): void;
}

/** A gateway on its own redis-server, with a probe on its budget and queue. */
export interface Rig {
  redis: PrivateRedis;
  gw: TestGateway;
  probe: BudgetProbe;
  /** Every line the gateway's processes printed, with the process name. */
  lines: Array<{ process: string; line: string }>;
  /** The SQLite file of the result store. */
  dbPath: string;
  /** Worker processes still running. */
  liveWorkers(): AppProcess[];
  /** Stops everything the rig started (Redis resumed first if paused); safe to call twice. */
  stop(): Promise<void>;
}

/** Options of startRig: those of startSystem, plus a config edit. */
export type RigOptions = SystemOptions & { editConfig?: (config: TempConfig) => void };

/** Starts a private redis-server and a gateway (api, workers, simulator) on it. */
export async function startRig(options: RigOptions): Promise<Rig> {
  const redis = await startPrivateRedis();
  const dropRedis = deferCleanup(`redis-server :${redis.port}`, () => redis.cleanup());
  const lines: Rig['lines'] = [];
  let gw: TestGateway;
  try {
    gw = await startTestGateway({ ...options, env: { ...options.env, REDIS_URL: redis.url }, onLine: (process, line) => lines.push({ process, line }) });
  } catch (e) {
    await dropRedis();
    throw e;
  }
  const probe = budgetProbe(gw);
  const stopGateway = deferCleanup('gateway', async () => {
    // A paused or stopped Redis would hold the processes' shutdown: bring it back first.
    try {
      redis.resume();
    } catch {
      await redis.start();
    }
    await probe.close();
    await gw.stop();
  });
  const workers = () => gw.system.processes.filter((p) => p.name === 'worker' && p.child.exitCode === null && p.child.signalCode === null);
  return {
    redis,
    gw,
    probe,
    lines,
    dbPath: String(gw.system.env.DATABASE_URL),
    liveWorkers: workers,
    async stop() {
      await stopGateway();
      await dropRedis();
    },
  };
}

/** Config edits every scenario wants: no response cache (every job pays), no client or provider limits, `budget` merged in. */
export function chaosConfig(config: TempConfig, budget: Record<string, unknown>): void {
  payingConfig(config, { daily_usd: null, ...budget });
  config.edit('rate_limits.json', (json) => {
    json.clients.default.read_rpm = 1_000_000;
  });
}

/**
 * Short provider calls, so that a dead worker's budget holds expire (and are charged) within
 * seconds: a hold lives as long as the longest call its chain may make (see holdTtlBoundMs).
 */
export function shortCalls(config: TempConfig, timeoutMs = 4000): void {
  config.edit('provider_settings.json', (json) => {
    for (const p of Object.values(json.providers) as Array<Record<string, unknown>>) {
      p.timeout_ms = timeoutMs;
      p.retry = { max_retries: 0, initial_delay_ms: 100, max_delay_ms: 500, max_retry_after_ms: 1000 };
    }
  });
}

/**
 * Longest a budget hold can live under the config in `configDir`, milliseconds: the reservation
 * TTL, or the call budget of a chain of every configured model when that is longer (the pipeline
 * reserves for the longer of the two).
 */
export function holdTtlBoundMs(configDir: string): number {
  const cfg = loadConfig(configDir);
  return Math.max(cfg.rateLimits.budget.reservation_ttl_ms, chainCallBudgetMs(allCandidates(cfg), MAX_INLINE_RATE_WAIT_MS));
}

/** Career-path submission number `i` of a scenario, from its own user, tagged with the scenario. */
export function chaosSubmission(tag: string, i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...careerSubmission(i), user_id: `chaos-${tag}-${i}`, metadata: { chaos: tag, n: i }, ...extra };
}

/** `count` distinct submissions of a scenario (chaosSubmission 0..count-1). */
export function chaosSubmissions(tag: string, count: number, extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => chaosSubmission(tag, i, extra));
}

/**
 * A client that, as the README asks of clients, retries a POST answered 503 `redis_unavailable`
 * after its Retry-After (up to 3 times), and counts those retries: scenarios whose fault is not in
 * Redis report them instead of failing on a busy machine's slow Redis round trip.
 */
export class RetryingClient extends GatewayClient {
  /** POSTs retried after a 503 redis_unavailable. */
  retried = 0;
  override async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    for (let attempt = 0; ; attempt++) {
      const answer = await super.request<T>(method, path, body, headers);
      const code = (answer.body as { error?: { code?: string } }).error?.code;
      if (method !== 'POST' || answer.status !== 503 || code !== 'redis_unavailable' || attempt >= 3) return answer;
      this.retried++;
      await new Promise((resolve) => setTimeout(resolve, 1000 * (Number(answer.headers.get('retry-after')) || 1)));
    }
  }
}

/** A RetryingClient on the rig's API. */
export const retryingClient = (rig: Rig): RetryingClient => new RetryingClient(rig.gw.system.apiUrl, rig.gw.system.apiKey);

/** Submits `submissions` with at most `inFlight` requests open. */
export function submitLoad(client: GatewayClient, submissions: unknown[], inFlight = 20): Promise<Submitted> {
  return submitAll(client, submissions, inFlight);
}

/** Where polling left the jobs. */
export interface Settled {
  /** Finished jobs (not queued or active), by id. */
  done: Map<string, Record<string, unknown>>;
  /** Ids still queued or active at the deadline. */
  pending: string[];
  /** Ids the API answered 404 for at the last look (accepted, then forgotten). */
  missing: string[];
}

/** Options of settle. */
export interface SettleOptions {
  /** Give up this long after the start, milliseconds. */
  timeoutMs: number;
  /** Give up earlier when nothing finished for this long, milliseconds. @defaultValue timeoutMs */
  idleMs?: number;
  /** GETs open at once. @defaultValue 50 */
  concurrency?: number;
}

/** Polls every id through the API until all are finished or a deadline passes; never throws for slowness. */
export async function settle(client: GatewayClient, ids: readonly string[], options: SettleOptions): Promise<Settled> {
  const deadline = Date.now() + options.timeoutMs;
  const idleMs = options.idleMs ?? options.timeoutMs;
  const done = new Map<string, Record<string, unknown>>();
  let pending = [...ids];
  let missing: string[];
  let lastProgress = Date.now();
  for (;;) {
    const next: string[] = [];
    const gone: string[] = [];
    const step = options.concurrency ?? 50;
    for (let i = 0; i < pending.length; i += step) {
      const slice = pending.slice(i, i + step);
      const answers = await Promise.all(slice.map((id) => client.get(id).catch(() => ({ status: 0, body: {} as Record<string, unknown> }))));
      answers.forEach((a, k) => {
        const id = slice[k]!;
        const status = a.body.status;
        if (a.status === 200 && status !== 'queued' && status !== 'active') done.set(id, a.body);
        else {
          next.push(id);
          if (a.status === 404) gone.push(id);
        }
      });
    }
    if (next.length < pending.length) lastProgress = Date.now();
    pending = next;
    missing = gone;
    const now = Date.now();
    if (pending.length === 0 || now > deadline || now - lastProgress > idleMs) return { done, pending, missing };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Polls `check` every `everyMs` until it answers true (then true) or `timeoutMs` passes (then false). */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Redis outages the gateway's processes logged (event redis_unavailable), e.g. ['api/api: timeout'], for notes. */
export function loggedRedisOutages(rig: Rig): string[] {
  const out: string[] = [];
  for (const { process, line } of rig.lines) {
    if (!line.includes('redis_unavailable')) continue;
    try {
      const e = JSON.parse(line) as { event?: string; connection?: string; reason?: string };
      if (e.event === 'redis_unavailable') out.push(`${process}/${e.connection ?? '?'}: ${e.reason ?? '?'}`);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Jobs of `ids` by status, e.g. {completed: 1998, failed: 2}. */
export function statusCounts(settled: Settled): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const job of settled.done.values()) counts[String(job.status)] = (counts[String(job.status)] ?? 0) + 1;
  if (settled.pending.length > 0) counts.unfinished = settled.pending.length;
  if (settled.missing.length > 0) counts.missing = settled.missing.length;
  return counts;
}

/** `{completed: 3, failed: 1}` as 'completed 3, failed 1'. */
export const describeCounts = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** Billed usage the simulator counted, per provider (wire format) and model. */
type Billed = Record<'openai' | 'anthropic', Record<string, { calls: number; input_tokens: number; output_tokens: number }>>;

/**
 * What the providers billed, in micro-dollars: the simulator's tokens of every answer it sent,
 * priced per model with the config's price in force today. Tokens are summed per model before
 * rounding up, so this can be below the sum of per-call costs by less than a micro-dollar a call.
 */
export async function billedMicros(simulatorUrl: string, configDir: string, at = new Date()): Promise<{ micros: number; calls: number }> {
  const response = await fetch(`${simulatorUrl}/admin/calls/billed`);
  if (!response.ok) throw new Error(`the simulator's billed usage answered ${response.status}`);
  const { billed } = (await response.json()) as { billed: Billed };
  const cfg = loadConfig(configDir);
  let micros = 0;
  let calls = 0;
  for (const [kind, models] of Object.entries(billed)) {
    for (const [model, usage] of Object.entries(models)) {
      const provider = Object.values(cfg.providers.providers).find((p) => p.kind === kind && p.models[model]);
      if (!provider) throw new Error(`the simulator billed ${kind} model ${model}, which no configured provider prices`);
      micros += costMicros({ inputTokens: usage.input_tokens, outputTokens: usage.output_tokens }, priceAt(provider.models[model]!, at));
      calls += usage.calls;
    }
  }
  return { micros, calls };
}

/** Stored rows of the result store for `ids`: how many ids have exactly one row, and their statuses. */
export function storedRows(dbPath: string, ids: readonly string[]): { exactlyOne: number; statuses: Record<string, number> } {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare('SELECT id, status FROM jobs').all() as Array<{ id: string; status: string }>;
    const perId = new Map<string, string[]>();
    for (const r of rows) perId.set(r.id, [...(perId.get(r.id) ?? []), r.status]);
    const statuses: Record<string, number> = {};
    let exactlyOne = 0;
    for (const id of ids) {
      const found = perId.get(id) ?? [];
      if (found.length === 1) exactlyOne++;
      for (const s of found) statuses[s] = (statuses[s] ?? 0) + 1;
    }
    return { exactlyOne, statuses };
  } finally {
    db.close();
  }
}

/**
 * The jobs the result store records as finished (category jobs left out), with when each ended
 * (Unix ms). BullMQ forgets a completed job after an hour (or sooner, past 10,000), so the store is where finished jobs are counted.
 */
export function storedFinished(dbPath: string): Map<string, { status: string; completedAtMs: number }> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare("SELECT id, status, completed_at FROM jobs WHERE status IN ('completed', 'failed', 'rejected', 'cancelled')").all() as Array<{ id: string; status: string; completed_at: string | null }>;
    return new Map(rows.filter((r) => !r.id.startsWith('category-')).map((r) => [r.id, { status: r.status, completedAtMs: r.completed_at ? Date.parse(r.completed_at) : Number.NaN }]));
  } finally {
    db.close();
  }
}

/** Ids of the rows in the result store (category jobs left out). */
export function storedIds(dbPath: string): string[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return (db.prepare('SELECT id FROM jobs').all() as Array<{ id: string }>).map((r) => r.id).filter((id) => !id.startsWith('category-'));
  } finally {
    db.close();
  }
}

/** A job's lock in BullMQ: the token of the worker running it (`<worker uuid>:<n>`), or null. */
export function lockOf(probe: BudgetProbe, id: string): Promise<string | null> {
  return probe.redis.get(`${probe.prefix}:llm-jobs:${id}:lock`);
}

/** The worker (its BullMQ uuid) a lock token names. */
export const workerOfToken = (token: string): string => token.slice(0, token.lastIndexOf(':'));

/** Active jobs right now, with the worker holding each (from its lock). */
export async function activeJobs(probe: BudgetProbe): Promise<Array<{ id: string; worker: string | null }>> {
  const jobs = (await probe.queue.getActive(0, -1)).filter((j): j is Job<LlmJobData> & { id: string } => typeof j.id === 'string');
  return Promise.all(jobs.map(async (j) => ({ id: j.id, worker: await lockOf(probe, j.id).then((t) => (t === null ? null : workerOfToken(t))) })));
}

/** Month spend in Redis: spent (charged holds included), the charged part, reserved, and open holds. */
export async function ledger(probe: BudgetProbe): Promise<{ spent: number; charged: number; reserved: number; holds: number }> {
  const s = await probe.store.snapshot();
  return { spent: s.month.spent, charged: s.month.charged, reserved: s.month.reserved, holds: s.holds };
}

/** Provider calls the simulator counted for each job id (aborted ones included). */
export async function callsByJob(simulatorUrl: string): Promise<Map<string, number>> {
  const calls = (await (await fetch(`${simulatorUrl}/admin/calls`)).json()) as { by_job: Record<string, { openai?: number; anthropic?: number }> };
  return new Map(Object.entries(calls.by_job).map(([id, c]) => [id, (c.openai ?? 0) + (c.anthropic ?? 0)]));
}

/** Prices the simulator's billed usage against the rig's config. */
export const rigBilled = (rig: Rig) => billedMicros(rig.gw.system.simulatorUrl, rig.gw.config.dir);

/** Runs `body` on a fresh rig and stops the rig afterwards, whatever happens. */
export async function withRig<T>(options: RigOptions, body: (rig: Rig) => Promise<T>): Promise<T> {
  const rig = await startRig(options);
  try {
    return await body(rig);
  } finally {
    await rig.stop();
  }
}
