/**
 * Section "e2e": the whole system (simulator at 0 ms latency, worker process(es), API) started as
 * child processes on a fresh queue prefix; N jobs submitted as fast as keep-alive HTTP allows, every
 * input distinct so that each job is a cache miss and a paid provider call (the worst case); then
 * completions per second, from the first job's creation to the last one's completion, read from
 * the result store (SQLite) once the queue has drained. Baseline, same run: the simulator alone
 * driven by the OpenAI SDK at the workers' total concurrency (raw provider calls/s on this
 * machine). Added latency of the saturated run: per stored job, total - queue - provider
 * (latency_ms), every job waiting behind the whole backlog on the worker's event loop; reported
 * without a target. Added latency at a load the system sustains is the latency section's
 * (latency.ts), which takes its rate from the jobs/s measured here.
 *
 * CPU, same run: the worker's CPU per job in phase 1 beside the SDK's own CPU per call (measured in
 * this process during the SDK baseline), and API + worker + Redis CPU per job beside a bare HTTP
 * relay's CPU per request (relay.ts, driven in a round before the SDK baseline and one after
 * phase 1). Redis: commands per job in phase 1 from INFO commandstats, and, before the system
 * starts, the round trips of a few jobs sent one at a time to a traced system of their own (trace.ts).
 *
 * The run uses a copy of config/ whose rate limits are raised out of the way (see config.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { Queue } from 'bullmq';
import OpenAI from 'openai';
import { startSystem } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix } from '../../libs/queue/jobs.ts';
import { providerFetch } from '../../libs/providers/transport.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { deferCleanup } from './cleanup.ts';
import { benchConfigDir } from './config.ts';
import { CpuMeter } from './cpu.ts';
import { redisMeter } from './redisStats.ts';
import { chatCompletionBody, startRelay } from './relayBaseline.ts';
import { runTrace } from './trace.ts';
import { closedLoop, jsonPost } from './loadgen.ts';
import { ms, percentiles, rate, ratio, ratioValue, type Percentiles, type Row } from './stats.ts';

export interface E2eOptions {
  redisUrl: string;
  jobs: number;
  workers: number;
  workerConcurrency: number;
  /** Keep-alive connections submitting jobs. */
  connections: number;
  /** Milliseconds of the SDK baseline. */
  baselineMs: number;
  /** Give up waiting for the queue to drain after this long, ms. */
  timeoutMs: number;
  /** Local Redis server's pid, for CPU accounting. */
  redisPid: number | undefined;
}

const TARGET_JOBS_PER_S = 2000;
/** Worker CPU per job beyond the SDK's own per call, ms. */
const TARGET_WORKER_OVERHEAD_MS = 0.5;
/** (API + worker + Redis) CPU per job over the bare relay's CPU per request. */
const TARGET_CPU_RATIO_TO_RELAY = 2;
const TARGET_COMMANDS_PER_JOB = 40;
const TARGET_ROUND_TRIPS_PER_JOB = 4;
/** Milliseconds of each of the relay's two rounds (after a 500 ms warm-up). */
const RELAY_ROUND_MS = 2500;

/**
 * Raw provider calls per second: the OpenAI SDK against the simulator, closed loop at `concurrency`.
 * Also the SDK's own client-side CPU per call (ms): this process's CPU from the end of the warm-up
 * until the last call answered, over the calls answered meanwhile (nothing else runs here then).
 */
async function sdkBaseline(simulatorUrl: string, concurrency: number, durationMs: number, transport?: typeof fetch): Promise<{ rps: number; latency: ReturnType<typeof percentiles>; errors: number; cpuMsPerCall: number }> {
  const client = new OpenAI({ baseURL: `${simulatorUrl}/v1`, apiKey: 'sk-bench', maxRetries: 0, ...(transport ? { fetch: transport } : {}) });
  const body = chatCompletionBody();
  const call = () => client.chat.completions.create(body);
  const warmupMs = Math.min(1000, durationMs / 4);
  const started = performance.now();
  const from = started + warmupMs;
  const to = from + durationMs - warmupMs;
  const latencies: number[] = [];
  let errors = 0;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let callsAfterFrom = 0;
  const cpuTimer = setTimeout(() => (cpuFrom = process.cpuUsage()), warmupMs);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < to) {
        const t0 = performance.now();
        try {
          await call();
        } catch {
          errors++;
          continue;
        }
        const t1 = performance.now();
        if (cpuFrom) callsAfterFrom++;
        if (t1 >= from && t1 <= to) latencies.push(t1 - t0);
      }
    }),
  );
  clearTimeout(cpuTimer);
  const cpu = cpuFrom ? process.cpuUsage(cpuFrom) : undefined;
  const cpuMsPerCall = cpu && callsAfterFrom > 0 ? (cpu.user + cpu.system) / 1000 / callsAfterFrom : NaN;
  return { rps: (latencies.length / (to - from)) * 1000, latency: percentiles(latencies), errors, cpuMsPerCall };
}

/** The submission of job `i`, with an input no other job of this run shares (a sure cache miss). */
export function uniqueSubmission(i: number, run: string, phase: string): Record<string, unknown> {
  const s = careerSubmission(i) as { input: Record<string, unknown>; metadata: Record<string, unknown> };
  s.input.goals = `${(s.input.goals as string | undefined) ?? 'Grow in my field.'} (bench ${run} ${phase} #${i})`;
  s.metadata.bench_phase = phase;
  return s;
}

interface StoreFigures {
  statuses: Record<string, number>;
  cache: Record<string, number>;
  servedBy: Record<string, number>;
  firstCreatedMs: number;
  lastCompletedMs: number;
  firstStartedMs: number;
  added: number[];
  provider: number[];
  queue: number[];
  total: number[];
}

/** The stored records of one phase. Safe while the workers run: a job completes only once its record is committed. */
function readStore(path: string, phase: string): StoreFigures {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const where = "json_extract(doc, '$.metadata.bench_phase') = ?";
    const count = (what: string) =>
      Object.fromEntries(db.prepare(`SELECT ${what} k, count(*) n FROM jobs WHERE ${where} GROUP BY k`).all(phase).map((r) => [String(r.k), Number(r.n)]));
    const span = db.prepare(`SELECT min(created_at) c, max(completed_at) d, min(json_extract(doc, '$.started_at')) s FROM jobs WHERE ${where}`).get(phase)!;
    const rows = db
      .prepare(
        `SELECT json_extract(doc, '$.latency_ms.total') t, json_extract(doc, '$.latency_ms.queue') q, json_extract(doc, '$.latency_ms.provider') p FROM jobs WHERE status = 'completed' AND ${where}`,
      )
      .all(phase);
    const f: StoreFigures = {
      statuses: count('status'),
      cache: count("json_extract(doc, '$.cache')"),
      servedBy: count("json_extract(doc, '$.served_by')"),
      firstCreatedMs: Date.parse(String(span.c)),
      lastCompletedMs: Date.parse(String(span.d)),
      firstStartedMs: Date.parse(String(span.s)),
      added: [],
      provider: [],
      queue: [],
      total: [],
    };
    for (const r of rows) {
      const t = Number(r.t);
      const q = Number(r.q);
      const p = Number(r.p);
      f.total.push(t);
      f.queue.push(q);
      f.provider.push(p);
      f.added.push(t - q - p);
    }
    return f;
  } finally {
    db.close();
  }
}

/** Waits until nothing is waiting, active or delayed; false if `timeoutMs` passed first. */
async function drain(queue: Queue, timeoutMs: number): Promise<{ drained: boolean; remaining: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
    const remaining = Object.values(c).reduce((a, b) => a + b, 0);
    if (remaining === 0) return { drained: true, remaining };
    if (performance.now() > deadline) return { drained: false, remaining };
    // Each poll is 7 Redis commands counted with the system's (redis_commands_per_job): poll gently.
    await new Promise((r) => setTimeout(r, 200));
  }
}

const fmt = (p: Percentiles) => `p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}`;

function latencyLines(s: StoreFigures): string[] {
  return [
    `    added (total-queue-provider) ${fmt(percentiles(s.added))}  mean ${ms(percentiles(s.added).mean)}`,
    `    provider                     ${fmt(percentiles(s.provider))}`,
    `    queue                        ${fmt(percentiles(s.queue))}`,
    `    total                        ${fmt(percentiles(s.total))}`,
  ];
}

export async function runE2e(o: E2eOptions): Promise<{ rows: Row[]; details: string[]; jobsPerS: number }> {
  const tmp = mkdtempSync(join(tmpdir(), 'llm-gateway-bench-e2e-'));
  const removeTmp = deferCleanup('e2e temp dir', async () => rmSync(tmp, { recursive: true, force: true }));
  try {
    const configDir = benchConfigDir(tmp);
    const databasePath = join(tmp, 'e2e.sqlite');
    // First, while nothing else of the bench runs: a few jobs one at a time, their Redis traced.
    const trace = await runTrace({ redisUrl: o.redisUrl, dir: tmp, configDir });
    const system = await startSystem({
      workers: o.workers,
      simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 0 } }, anthropic: { latency: { kind: 'fixed', ms: 0 } } },
      env: {
        REDIS_URL: o.redisUrl,
        DATABASE_URL: databasePath,
        CONFIG_DIR: configDir,
        LOG_LEVEL: 'warn',
        // e.g. BENCH_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles simulator, worker and API.
        NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '',
        WORKER_CONCURRENCY: String(o.workerConcurrency),
      },
    });
    const stopSystem = deferCleanup('e2e system', async () => {
      await system.stop();
      await obliterateQueues(o.redisUrl, system.queuePrefix);
    });
    const connection = createRedis(o.redisUrl, 'bench-e2e-poll');
    const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(system.queuePrefix) });
    const closeQueue = deferCleanup('e2e poll connection', async () => {
      await queue.close();
      connection.disconnect();
    });
    const details: string[] = [
      `e2e: ${o.jobs} jobs with distinct inputs, ${o.workers} worker process(es) x concurrency ${o.workerConcurrency}, simulator latency 0 ms, ${o.connections} submitting connections, prefix {${system.queuePrefix}}`,
    ];
    const rows: Row[] = [];
    // The measured jobs/s, handed to the latency section, which runs at half of it.
    let capacity = NaN;
    try {
      const relay = await startRelay(system.simulatorUrl);
      const concurrency = o.workers * o.workerConcurrency;
      // CPU baseline: relay rounds before and after the gateway's throughput phase.
      await relay.round(concurrency, 500, RELAY_ROUND_MS);
      const baseline = await sdkBaseline(system.simulatorUrl, concurrency, o.baselineMs);
      details.push(
        `  baseline: OpenAI SDK -> simulator at concurrency ${concurrency}: ${rate(baseline.rps, ' calls/s')}, ${fmt(baseline.latency)}${baseline.errors ? `, ${baseline.errors} errors` : ''}; SDK CPU ${ms(baseline.cpuMsPerCall)} per call`,
      );
      // Not a baseline: what the gateway's own transport (libs/providers/transport.ts) saves the same SDK.
      const light = await sdkBaseline(system.simulatorUrl, concurrency, o.baselineMs / 2, providerFetch);
      details.push(`  the same SDK over the gateway's transport (providerFetch, undici.request): ${rate(light.rps, ' calls/s')}; SDK CPU ${ms(light.cpuMsPerCall)} per call`);

      const run = Date.now().toString(36);
      const port = Number(new URL(system.apiUrl).port);
      const auth = { Authorization: `Bearer ${system.apiKey}` };
      const build = (n: number, phase: string) => Array.from({ length: n }, (_, i) => jsonPost('127.0.0.1', port, '/v1/jobs', JSON.stringify(uniqueSubmission(i, run, phase)), auth));

      // Phase 1: throughput. Everything at once, as fast as the API takes it.
      const requests = build(o.jobs, 'throughput');
      const meter = new CpuMeter([
        ...system.processes.map((p) => ({ name: p.name, pid: p.child.pid })),
        { name: 'redis (shared)', pid: o.redisPid },
      ]);
      meter.start();
      const commands = await redisMeter(connection);
      const submitted = await closedLoop({ host: '127.0.0.1', port, connections: o.connections, total: o.jobs, request: (i) => requests[i]! });
      const d1 = await drain(queue, o.timeoutMs);
      const cpu = meter.measure(o.jobs);
      const redis = await commands.measure(o.jobs);
      const s = readStore(databasePath, 'throughput');
      const completed = s.statuses.completed ?? 0;
      const spanMs = s.lastCompletedMs - s.firstCreatedMs;
      const jobsPerS = (completed / spanMs) * 1000;
      const accepted = submitted.statuses[202] ?? 0;
      const submitRps = (accepted / submitted.durationMs) * 1000;
      const saturated = percentiles(s.added);
      const saturatedProvider = percentiles(s.provider);
      details.push(
        `  throughput phase: ${accepted}/${o.jobs} accepted (statuses ${JSON.stringify(submitted.statuses)}) in ${(submitted.durationMs / 1000).toFixed(2)} s = ${rate(submitRps, ' req/s')}` +
          `${submitted.errors ? `, transport errors ${submitted.errors} (${submitted.firstError})` : ''}`,
        `    drained: ${d1.drained ? 'yes' : `NO, ${d1.remaining} jobs still queued/active after ${o.timeoutMs / 1000} s`}; statuses ${JSON.stringify(s.statuses)}; cache ${JSON.stringify(s.cache)}; served_by ${JSON.stringify(s.servedBy)}`,
        `    first created -> last completed ${(spanMs / 1000).toFixed(2)} s = ${rate(jobsPerS, ' jobs/s')} (from first start: ${rate((completed / (s.lastCompletedMs - s.firstStartedMs)) * 1000, ' jobs/s')})`,
        `    ${cpu.line}`,
        `    ${redis.line}`,
        `    latency_ms of its ${completed} completed jobs (saturated: ${concurrency} jobs in flight share the worker's event loop):`,
        ...latencyLines(s),
      );
      rows.push({
        section: 'e2e',
        figure: `throughput (${o.jobs} jobs, ${o.workers}x${o.workerConcurrency} workers)`,
        measured: rate(jobsPerS, ' jobs/s'),
        baseline: `SDK->simulator ${rate(baseline.rps, ' calls/s')}`,
        ratio: ratio(jobsPerS, baseline.rps),
        target: `>= ${TARGET_JOBS_PER_S} jobs/s (is ${ratio(jobsPerS, TARGET_JOBS_PER_S)})`,
        pass: d1.drained && completed === o.jobs && jobsPerS >= TARGET_JOBS_PER_S,
        name: 'pipeline_ratio_to_sdk',
        value: ratioValue(jobsPerS, baseline.rps),
        unit: 'ratio',
        baselineValue: null,
      });
      await relay.round(concurrency, 500, RELAY_ROUND_MS);
      // Stopped here, or on a failure by the bench's cleanup (startRelay registered it).
      await relay.stop();
      const r = relay.totals;
      const relayMs = r.cpuMs / r.requests;
      const workerMs = cpu.msPerUnit.worker ?? NaN;
      const gatewayMs = (cpu.msPerUnit.api ?? NaN) + workerMs + (cpu.msPerUnit['redis (shared)'] ?? NaN);
      const overheadMs = workerMs - baseline.cpuMsPerCall;
      details.push(
        `  relay (baseline): bare node:http relay -> simulator, ${concurrency} connections, 2 rounds around the throughput phase: ${rate((r.requests / r.durationMs) * 1000, ' req/s')}, CPU ${ms(relayMs)} per request` +
          ` (statuses ${JSON.stringify(r.statuses)}${r.errors ? `, transport errors ${r.errors} (${r.firstError})` : ''})`,
        `    gateway CPU per job (API + worker + Redis, throughput phase): ${ms(gatewayMs)} = ${ratio(gatewayMs, relayMs)} the relay's; worker ${ms(workerMs)} - SDK ${ms(baseline.cpuMsPerCall)} = ${ms(overheadMs)} around each call`,
        ...trace.details,
      );
      rows.push(
        {
          section: 'e2e',
          figure: 'worker CPU per job beyond the SDK call',
          measured: ms(overheadMs),
          baseline: `SDK alone ${ms(baseline.cpuMsPerCall)}/call`,
          ratio: ratio(workerMs, baseline.cpuMsPerCall),
          target: `<= ${TARGET_WORKER_OVERHEAD_MS} ms`,
          pass: overheadMs <= TARGET_WORKER_OVERHEAD_MS,
          name: 'worker_overhead_cpu_ms_per_job',
          value: overheadMs,
          unit: 'ms',
          baselineValue: baseline.cpuMsPerCall,
        },
        {
          section: 'e2e',
          figure: 'CPU per job (API + worker + Redis)',
          measured: ms(gatewayMs),
          baseline: `relay ${ms(relayMs)}/request`,
          ratio: ratio(gatewayMs, relayMs),
          target: `<= ${TARGET_CPU_RATIO_TO_RELAY.toFixed(2)}x relay`,
          pass: ratioValue(gatewayMs, relayMs) <= TARGET_CPU_RATIO_TO_RELAY,
          name: 'gateway_cpu_ratio_to_relay',
          value: ratioValue(gatewayMs, relayMs),
          unit: 'ratio',
          baselineValue: relayMs,
        },
        {
          section: 'e2e',
          figure: 'Redis commands per job (Lua-internal incl.)',
          measured: redis.perUnit.toFixed(1),
          baseline: '-',
          ratio: '-',
          target: `<= ${TARGET_COMMANDS_PER_JOB}`,
          pass: redis.perUnit <= TARGET_COMMANDS_PER_JOB,
          name: 'redis_commands_per_job',
          value: redis.perUnit,
          unit: 'count',
          baselineValue: null,
        },
        {
          section: 'e2e',
          figure: "Redis round trips per job (worker's own, traced)",
          measured: String(trace.gatewayRoundTrips),
          baseline: `with the queue's fetch and finish: ${trace.workerRoundTrips}`,
          ratio: '-',
          target: `<= ${TARGET_ROUND_TRIPS_PER_JOB}`,
          pass: trace.gatewayRoundTrips <= TARGET_ROUND_TRIPS_PER_JOB,
          name: 'redis_round_trips_per_job',
          value: trace.gatewayRoundTrips,
          unit: 'count',
          baselineValue: trace.workerRoundTrips,
        },
        {
          section: 'e2e',
          figure: 'Redis round trips per POST (API, traced)',
          measured: String(trace.apiRoundTrips),
          baseline: '-',
          ratio: '-',
          target: '-',
          pass: null,
          name: 'redis_round_trips_per_post',
          value: trace.apiRoundTrips,
          unit: 'count',
          baselineValue: null,
        },
      );

      capacity = jobsPerS;
      rows.push(
        {
          section: 'e2e',
          figure: 'added latency p99, saturated (phase 1)',
          measured: ms(saturated.p99),
          baseline: `provider call p99 ${ms(saturatedProvider.p99)}`,
          ratio: ratio(saturated.p99, saturatedProvider.p99),
          target: '-',
          pass: null,
          name: 'added_latency_p99_ms_saturated',
          value: saturated.p99,
          unit: 'ms',
          baselineValue: saturatedProvider.p99,
        },
        { section: 'e2e', figure: 'intake while submitting (phase 1)', measured: rate(submitRps, ' req/s'), baseline: '-', ratio: '-', target: '-', pass: null, name: 'pipeline_intake_rps', value: submitRps, unit: 'req/s', baselineValue: null },
      );
    } finally {
      await closeQueue();
      await stopSystem();
    }
    return { rows, details, jobsPerS: capacity };
  } finally {
    await removeTmp();
  }
}
