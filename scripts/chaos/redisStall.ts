/**
 * Scenario c: Redis stalls under load, twice on one gateway — `CLIENT PAUSE ... ALL` (Redis
 * answers nothing, connections stay open), then SIGSTOP of redis-server (the process freezes).
 * During each: every POST answers within 3 s (503 redis_unavailable), /readyz answers 503 within
 * 1 s. Afterwards every accepted (202) job completes and nothing refused became a job.
 */
import { createRedis } from '../../libs/redis/connection.ts';
import type { ChaosContext, Rig } from './harness.ts';
import { chaosConfig, chaosSubmission, describeCounts, settle, statusCounts, storedIds, waitFor, withRig } from './harness.ts';
import { check, outcomeOf, type Check, type ScenarioResult } from './verdict.ts';

/** Submissions in flight at once, all through the run. */
const LANES = 6;
/** Longest a POST may take while Redis stalls, milliseconds. */
const POST_BOUND_MS = 3000;
/** Longest /readyz may take to say 503 while Redis stalls, milliseconds. */
const READYZ_BOUND_MS = 1000;

interface Post {
  startedAt: number;
  ms: number;
  status: number;
  code: string | undefined;
  id: string | undefined;
}

interface Probe {
  startedAt: number;
  ms: number;
  status: number;
}

/** Steady POST load from LANES lanes until stopped; every answer is kept. */
function postLoad(rig: Rig) {
  const posts: Post[] = [];
  let n = 0;
  let running = true;
  const postOne = async (): Promise<Post> => {
    const i = n++;
    const startedAt = Date.now();
    const answer = await rig.gw.client
      .request<{ id?: string; error?: { code: string } }>('POST', '/v1/jobs', chaosSubmission('c', i))
      .catch(() => ({ status: 0, body: {} as { id?: string; error?: { code: string } } }));
    const post = { startedAt, ms: Date.now() - startedAt, status: answer.status, code: answer.body.error?.code, id: answer.body.id };
    posts.push(post);
    return post;
  };
  const lanes = Array.from({ length: LANES }, async () => {
    while (running) {
      const post = await postOne();
      // Steady, bounded load: a short breath after an answer, a longer one after a refusal.
      await new Promise((resolve) => setTimeout(resolve, post.status === 202 ? 20 : 100));
    }
  });
  return {
    posts,
    /** One more POST now, beside the lanes (whose POSTs each wait out their deadline in a stall). */
    postOne,
    async stop() {
      running = false;
      await Promise.all(lanes);
    },
  };
}

/** /readyz, one probe after another, from `from` until `until` (epoch ms). */
async function probeReadyz(rig: Rig, until: number): Promise<Probe[]> {
  const probes: Probe[] = [];
  while (Date.now() < until) {
    const startedAt = Date.now();
    const status = await fetch(`${rig.gw.system.apiUrl}/readyz`, { signal: AbortSignal.timeout(15_000) })
      .then(async (r) => (await r.text(), r.status))
      .catch(() => 0);
    probes.push({ startedAt, ms: Date.now() - startedAt, status });
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return probes;
}

/** One stall of `ms`: starts it, probes through it, ends it; returns the checks of that window. */
async function stall(rig: Rig, kind: 'CLIENT PAUSE' | 'SIGSTOP', ms: number, load: ReturnType<typeof postLoad>): Promise<Check[]> {
  const posts = load.posts;
  let startedAt: number;
  if (kind === 'CLIENT PAUSE') {
    const admin = createRedis(rig.redis.url, 'chaos-admin');
    await admin.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    startedAt = Date.now();
    admin.disconnect();
  } else {
    rig.redis.pause();
    startedAt = Date.now();
  }
  const endsAt = startedAt + ms;
  // Fresh POSTs all through the window, beside the lanes, so that some start well inside it.
  const extra: Array<Promise<Post>> = [];
  const ticker = setInterval(() => Date.now() < endsAt - POST_BOUND_MS && extra.push(load.postOne()), 250);
  // Probes stop short of the end so that none straddles the recovery.
  const probes = await probeReadyz(rig, endsAt - 1500);
  clearInterval(ticker);
  if (kind === 'SIGSTOP') {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now())));
    rig.redis.resume();
  }
  // Let POSTs that started inside the window answer.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt + POST_BOUND_MS + 500 - Date.now())));
  await Promise.all(extra);

  const overlapping = posts.filter((p) => p.startedAt < endsAt && p.startedAt + p.ms > startedAt);
  // Well inside the window (not at its edges), Redis cannot have answered: each must be a 503.
  const inside = posts.filter((p) => p.startedAt >= startedAt + 200 && p.startedAt < endsAt - POST_BOUND_MS);
  const refused = inside.filter((p) => p.status === 503 && p.code === 'redis_unavailable');
  const slowest = overlapping.length > 0 ? Math.max(...overlapping.map((p) => p.ms)) : 0;
  const ready = probes.filter((p) => p.startedAt >= startedAt + 200);
  const readyOk = ready.filter((p) => p.status === 503 && p.ms <= READYZ_BOUND_MS);
  const slowestReady = ready.length > 0 ? Math.max(...ready.map((p) => p.ms)) : 0;
  return [
    check(`${kind}: slowest POST of ${overlapping.length}`, `${slowest} ms`, `< ${POST_BOUND_MS} ms`, overlapping.length > 0 && slowest < POST_BOUND_MS),
    check(`${kind}: POSTs inside answered 503 redis_unavailable`, `${refused.length} / ${inside.length}`, `= ${inside.length} (> 0)`, inside.length > 0 && refused.length === inside.length),
    check(`${kind}: /readyz 503 within 1 s`, `${readyOk.length} / ${ready.length} (slowest ${slowestReady} ms)`, `= ${ready.length} (> 0)`, ready.length > 0 && readyOk.length === ready.length),
  ];
}

/** Scenario c. */
export async function redisStalls(ctx: ChaosContext): Promise<Omit<ScenarioResult, 'wallMs'>> {
  const ms = ctx.quick ? 5000 : 10_000;
  return withRig(
    {
      workers: 1,
      env: { WORKER_CONCURRENCY: '20' },
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 50 } }, anthropic: { latency: { kind: 'fixed', ms: 50 } } },
      editConfig: (c) => chaosConfig(c, { monthly_usd: 100_000 }),
    },
    async (rig) => {
      const load = postLoad(rig);
      const checks: Check[] = [];
      try {
        const flowing = await waitFor(async () => load.posts.filter((p) => p.status === 202).length >= 40, 30_000);
        if (!flowing) throw new Error(`jobs were not flowing before the stall: ${describeCounts(countBy(load.posts.map((p) => String(p.status))))}`);
        checks.push(...(await stall(rig, 'CLIENT PAUSE', ms, load)));
        ctx.say(`CLIENT PAUSE ${ms} ms done`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        checks.push(...(await stall(rig, 'SIGSTOP', ms, load)));
        ctx.say(`SIGSTOP ${ms} ms done`);
      } finally {
        await load.stop();
      }
      const accepted = load.posts.filter((p) => p.status === 202).map((p) => p.id!);
      const settled = await settle(rig.gw.client, accepted, { timeoutMs: 120_000, idleMs: 45_000 });
      const counts = statusCounts(settled);
      const acceptedSet = new Set(accepted);
      const phantom = storedIds(rig.dbPath).filter((id) => !acceptedSet.has(id));
      const answers = countBy(load.posts.map((p) => (p.code ? `${p.status} ${p.code}` : String(p.status))));
      checks.push(
        check('accepted (202) jobs completed after', `${counts.completed ?? 0} / ${accepted.length} (${describeCounts(counts)})`, `= ${accepted.length}`, (counts.completed ?? 0) === accepted.length),
        check('refused POSTs that became jobs', phantom.length, '= 0', phantom.length === 0),
      );
      return { id: 'c', did: `Redis CLIENT PAUSE ${ms / 1000} s, then SIGSTOP ${ms / 1000} s, under ${LANES} POST lanes`, checks, outcome: outcomeOf(checks), note: `POST answers: ${describeCounts(answers)}` };
    },
  );
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
