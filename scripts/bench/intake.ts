/**
 * Section "intake": POST /v1/jobs throughput of the real API process against a bare Express route
 * that only enqueues (bareIntake.ts), each a separate process on the same Redis, driven by the same
 * closed-loop generator with the same valid career submissions, in alternating rounds. No worker runs: jobs just queue,
 * and each side's queue is obliterated afterwards. The API runs with the bench config (config.ts:
 * the client rate limit raised, still checked on every request). Target: the API at 60% or more of the bare route.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startApp } from '../../libs/devkit/processes.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { startScript } from '../../libs/devkit/processes.ts';
import { deferCleanup } from './cleanup.ts';
import { benchConfigDir } from './config.ts';
import { CpuMeter } from './cpu.ts';
import { redisMeter } from './redisStats.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { closedLoop, jsonPost } from './loadgen.ts';
import { ms, percentiles, rate, ratio, ratioValue, type Row } from './stats.ts';

export interface IntakeOptions {
  redisUrl: string;
  connections: number;
  warmupMs: number;
  measureMs: number;
  /** Local Redis server's pid, for CPU accounting. */
  redisPid: number | undefined;
  /** Alternating rounds the measured time is split into. */
  rounds: number;
}

const BODIES = 1024;

interface Side {
  name: string;
  port: number;
  pid: number | undefined;
  requests: Buffer[];
  /** Summed over the rounds. */
  count: number;
  durationMs: number;
  latencies: number[];
  statuses: Record<number, number>;
  errors: number;
  firstError?: string;
  cpu: string[];
  rps: number;
}

function side(name: string, port: number, pid: number | undefined, apiKey: string): Side {
  const requests = Array.from({ length: BODIES }, (_, i) =>
    jsonPost('127.0.0.1', port, '/v1/jobs', JSON.stringify(careerSubmission(i)), { Authorization: `Bearer ${apiKey}` }),
  );
  return { name, port, pid, requests, count: 0, durationMs: 0, latencies: [], statuses: {}, errors: 0, cpu: [], rps: 0 };
}

/** One round against one side; `measure` false for the warm-up. */
async function round(s: Side, o: IntakeOptions, warmupMs: number, measureMs: number, measure: boolean): Promise<void> {
  const meter = new CpuMeter([
    { name: s.name, pid: s.pid },
    // Its event loop alone: what bounds a closed loop's rate when work moves to other threads.
    { name: `${s.name} main thread`, pid: s.pid, mainThread: true },
    { name: 'redis (shared)', pid: o.redisPid },
  ]);
  const redis = createRedis(o.redisUrl, 'bench-intake-stats');
  let commands: Awaited<ReturnType<typeof redisMeter>> | undefined;
  try {
    const result = await closedLoop({
      host: '127.0.0.1',
      port: s.port,
      connections: o.connections,
      warmupMs,
      measureMs,
      request: (i) => s.requests[i % BODIES]!,
      onMeasureStart: () => {
        meter.start();
        void redisMeter(redis).then((m) => (commands = m));
      },
    });
    if (!measure) return;
    s.count += result.count;
    s.durationMs += result.durationMs;
    for (const l of result.latencies) s.latencies.push(l);
    for (const [k, v] of Object.entries(result.statuses)) s.statuses[Number(k)] = (s.statuses[Number(k)] ?? 0) + v;
    s.errors += result.errors;
    s.firstError ??= result.firstError;
    s.rps = ((s.statuses[202] ?? 0) / s.durationMs) * 1000;
    // The last round's accounting is the one shown (each round is measured on its own).
    s.cpu = [meter.stop(result.count, 'request'), (await commands?.stop(result.count, 'request')) ?? ''];
  } finally {
    redis.disconnect();
  }
}

export async function runIntake(o: IntakeOptions): Promise<{ rows: Row[]; details: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'llm-gateway-bench-intake-'));
  const removeTmp = deferCleanup('intake temp dir', async () => rmSync(tmp, { recursive: true, force: true }));
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`;
  try {
    // Baseline: the bare route.
    const barePrefix = `bench-bare-${randomUUID().slice(0, 8)}`;
    const barePort = await freePort();
    const bareProcess = await startScript('bare intake', fileURLToPath(new URL('./bareIntake.ts', import.meta.url)), /bare intake listening/, {
      // e.g. BENCH_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the bare route and the API alike.
      env: { PORT: String(barePort), REDIS_URL: o.redisUrl, BENCH_QUEUE_PREFIX: barePrefix, NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '' },
    });
    const stopBare = deferCleanup('bare intake', async () => {
      await bareProcess.stop();
      await obliterateQueues(o.redisUrl, barePrefix);
    });
    // The real API, as `npm start` runs it.
    const apiPrefix = `bench-api-${randomUUID().slice(0, 8)}`;
    const apiPort = await freePort();
    const apiProcess = await startApp('api', {
      env: {
        PORT: String(apiPort),
        REDIS_URL: o.redisUrl,
        GATEWAY_API_KEYS: `bench:${apiKey}`,
        GATEWAY_QUEUE_PREFIX: apiPrefix,
        DATABASE_URL: join(tmp, 'api.sqlite'),
        CONFIG_DIR: benchConfigDir(tmp),
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '',
      },
    }).catch(async (e: unknown) => {
      await stopBare();
      throw e;
    });
    const stopApi = deferCleanup('api', async () => {
      await apiProcess.stop();
      await obliterateQueues(o.redisUrl, apiPrefix);
    });
    const bare = side('bare', barePort, bareProcess.child.pid, apiKey);
    const api = side('api', apiPort, apiProcess.child.pid, apiKey);
    try {
      // Warm both, then alternate short rounds, so that both sides see the same background load
      // (this machine may be shared) instead of one getting a quiet minute and the other a busy one.
      await round(bare, o, o.warmupMs / 2, 0, false);
      await round(api, o, o.warmupMs / 2, 0, false);
      const slice = o.measureMs / o.rounds;
      for (let r = 0; r < o.rounds; r++) {
        await round(bare, o, 300, slice, true);
        await round(api, o, 300, slice, true);
      }
    } finally {
      await stopApi();
      await stopBare();
    }

    const a = percentiles(api.latencies);
    const b = percentiles(bare.latencies);
    const ok = (s: Side) => s.errors === 0 && Object.keys(s.statuses).every((k) => k === '202');
    const rows: Row[] = [
      {
        section: 'intake',
        figure: `POST /v1/jobs throughput (${o.connections} conns)`,
        measured: rate(api.rps, ' req/s'),
        baseline: `bare ${rate(bare.rps, ' req/s')}`,
        ratio: ratio(api.rps, bare.rps),
        target: '>= 0.60x bare',
        pass: api.rps >= 0.6 * bare.rps && ok(api) && ok(bare),
        name: 'intake_ratio',
        value: ratioValue(api.rps, bare.rps),
        unit: 'ratio',
        baselineValue: null,
      },
      { section: 'intake', figure: 'POST /v1/jobs latency p50', measured: ms(a.p50), baseline: `bare ${ms(b.p50)}`, ratio: ratio(a.p50, b.p50), target: '-', pass: null, name: 'intake_p50_ms', value: a.p50, unit: 'ms', baselineValue: b.p50 },
      { section: 'intake', figure: 'POST /v1/jobs latency p99', measured: ms(a.p99), baseline: `bare ${ms(b.p99)}`, ratio: ratio(a.p99, b.p99), target: '-', pass: null, name: 'intake_p99_ms', value: a.p99, unit: 'ms', baselineValue: b.p99 },
    ];
    const line = (s: Side, p: ReturnType<typeof percentiles>) =>
      `  ${s.name.padEnd(5)} ${rate(s.rps, ' req/s').padStart(12)}  p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}` +
      `  statuses ${JSON.stringify(s.statuses)}${s.errors ? `  transport errors ${s.errors} (${s.firstError})` : ''}`;
    const details = [
      `intake: ${o.connections} keep-alive connections, ${o.warmupMs / 1000} s warm-up excluded, ${o.measureMs / 1000} s measured per side in ${o.rounds} alternating rounds, ${BODIES} distinct career submissions`,
      line(bare, b),
      ...bare.cpu.filter(Boolean).map((c) => `        last round: ${c}`),
      line(api, a),
      ...api.cpu.filter(Boolean).map((c) => `        last round: ${c}`),
    ];
    return { rows, details };
  } finally {
    await removeTmp();
  }
}
