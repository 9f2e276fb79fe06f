/**
 * What the latency, memory and soak sections share: a fresh system (simulator, worker, API) whose
 * simulated provider answers after a fixed delay, submission of jobs with distinct inputs (each a
 * cache miss and a paid call), and the stored records read back per phase. Added latency is
 * measured per stored job as total - provider: everything the gateway adds around the provider
 * call, queue wait included, since a worker that holds too few jobs at once makes jobs wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Queue } from 'bullmq';
import { startSystem, type RunningSystem } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix } from '../../libs/queue/jobs.ts';
import { TERMINAL_STATUSES } from '../../libs/store/types.ts';
import { deferCleanup } from './cleanup.ts';
import { benchConfigDir } from './config.ts';
import { uniqueSubmission } from './e2e.ts';
import { closedLoop, jsonPost, openLoop, type ClosedLoopResult } from './loadgen.ts';

/** Options for startSlowProvider. */
export interface SlowProviderOptions {
  redisUrl: string;
  /** Names the temp dir and the cleanup steps. */
  name: string;
  /** Fixed latency of every simulated provider answer, ms. */
  providerMs: number;
  /** Extra environment for every process. Leave WORKER_CONCURRENCY out to run the product's default. @defaultValue {} */
  env?: NodeJS.ProcessEnv;
}

/** A running system with its queue, its result store and one way to stop it all. */
export interface SlowProvider {
  system: RunningSystem;
  queue: Queue;
  databasePath: string;
  /** The pid of the (one) worker process. */
  workerPid: number | undefined;
  /** The pid of the API process. */
  apiPid: number | undefined;
  /** A run id that keeps this run's inputs distinct from every other run's. */
  run: string;
  stop(): Promise<void>;
}

/** Starts the system with the provider at `providerMs`; stop() (or the bench's cleanup) undoes it all. */
export async function startSlowProvider(o: SlowProviderOptions): Promise<SlowProvider> {
  const tmp = mkdtempSync(join(tmpdir(), `llm-gateway-bench-${o.name}-`));
  const removeTmp = deferCleanup(`${o.name} temp dir`, async () => rmSync(tmp, { recursive: true, force: true }));
  const databasePath = join(tmp, `${o.name}.sqlite`);
  const latency = { kind: 'fixed', ms: o.providerMs };
  let system: RunningSystem;
  try {
    system = await startSystem({
      workers: 1,
      simulatorKnobs: { openai: { latency }, anthropic: { latency } },
      env: {
        REDIS_URL: o.redisUrl,
        DATABASE_URL: databasePath,
        CONFIG_DIR: benchConfigDir(tmp),
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '',
        // Undefined drops a value inherited from the bench's shell: the product's default applies.
        WORKER_CONCURRENCY: undefined,
        ...o.env,
      },
    });
  } catch (e) {
    await removeTmp();
    throw e;
  }
  const stopSystem = deferCleanup(`${o.name} system`, async () => {
    await system.stop();
    await obliterateQueues(o.redisUrl, system.queuePrefix);
  });
  const connection = createRedis(o.redisUrl, `bench-${o.name}-poll`);
  const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(system.queuePrefix) });
  const closeQueue = deferCleanup(`${o.name} poll connection`, async () => {
    await queue.close();
    connection.disconnect();
  });
  const pid = (name: string) => system.processes.find((p) => p.name === name)?.child.pid;
  return {
    system,
    queue,
    databasePath,
    workerPid: pid('worker'),
    apiPid: pid('api'),
    run: Date.now().toString(36),
    stop: async () => {
      await closeQueue();
      await stopSystem();
      await removeTmp();
    },
  };
}

/** Sets the simulated provider's fixed latency (both wire formats), ms. */
export async function setProviderLatency(simulatorUrl: string, ms: number): Promise<void> {
  const latency = { kind: 'fixed', ms };
  const res = await fetch(`${simulatorUrl}/admin/knobs`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ openai: { latency }, anthropic: { latency } }) });
  if (!res.ok) throw new Error(`the simulator refused the latency knob: ${res.status} ${await res.text()}`);
}

/** Calls the simulator is answering right now (both wire formats). */
export async function providerInFlight(simulatorUrl: string): Promise<number> {
  const res = await fetch(`${simulatorUrl}/admin/calls`);
  const calls = (await res.json()) as { in_flight: Record<string, number> };
  return Object.values(calls.in_flight).reduce((a, b) => a + b, 0);
}

/** The request that submits job `i` of `phase`, with an input no other job shares. */
function submission(s: SlowProvider, phase: string): (i: number) => Buffer {
  const port = Number(new URL(s.system.apiUrl).port);
  const auth = { Authorization: `Bearer ${s.system.apiKey}` };
  return (i) => jsonPost('127.0.0.1', port, '/v1/jobs', JSON.stringify(uniqueSubmission(i, s.run, phase)), auth);
}

/** Submits `jobs` jobs of `phase` as fast as `connections` keep-alive connections allow. */
export function submitAll(s: SlowProvider, phase: string, jobs: number, connections = 64): Promise<ClosedLoopResult> {
  const request = submission(s, phase);
  return closedLoop({ host: '127.0.0.1', port: Number(new URL(s.system.apiUrl).port), connections, total: jobs, request });
}

/** Submits jobs of `phase` at `rate` per second for `durationMs`, whether or not earlier ones were answered. */
export function submitAtRate(s: SlowProvider, phase: string, rate: number, durationMs: number): Promise<ClosedLoopResult> {
  // Built on demand: a 10-minute soak would otherwise hold ~100,000 prebuilt requests.
  const request = submission(s, phase);
  return openLoop({ host: '127.0.0.1', port: Number(new URL(s.system.apiUrl).port), connections: 16, rate, durationMs, request });
}

/**
 * Waits until `jobs` jobs of `phase` have ended in the store, or `timeoutMs` passed; answers a
 * line that says what was left undone, or null when nothing was. The store rather than the queue:
 * the low-priority jobs that write generic category answers run one at a time and may outlast a
 * phase by minutes with a slow provider, while they are no part of what it measures.
 */
export async function waitStored(s: SlowProvider, phase: string, jobs: number, timeoutMs: number): Promise<string | null> {
  const deadline = performance.now() + timeoutMs;
  const db = new DatabaseSync(s.databasePath, { readOnly: true });
  try {
    const ended = db.prepare(
      `SELECT count(*) n FROM jobs WHERE status IN (${TERMINAL_STATUSES.map((t) => `'${t}'`).join(', ')}) AND json_extract(doc, '$.metadata.bench_phase') = ?`,
    );
    for (;;) {
      const n = Number(ended.get(phase)!.n);
      if (n >= jobs) return null;
      if (performance.now() > deadline) {
        const counts = await s.queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        return `${jobs - n} of ${jobs} jobs of ${phase} not done ${timeoutMs / 1000} s after the load ended (queue: ${JSON.stringify(counts)}): its figures leave out the slowest jobs`;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    db.close();
  }
}

/** The stored jobs of one phase: statuses, and per completed job its creation time and latencies. */
export interface PhaseRecords {
  statuses: Record<string, number>;
  /** Epoch ms each completed job was created. */
  createdMs: number[];
  /** total - provider per completed job, ms (queue wait included). */
  added: number[];
  /** The provider call as the worker timed it, ms. */
  provider: number[];
  /** Time spent waiting in the queue, ms (part of `added`). */
  queue: number[];
  /** Epoch ms of the first creation and the last completion; NaN when there is none. */
  firstCreatedMs: number;
  lastCompletedMs: number;
}

/** The stored records of `phase`, read from the SQLite store. */
export function readPhase(databasePath: string, phase: string): PhaseRecords {
  const db = new DatabaseSync(databasePath, { readOnly: true });
  try {
    const where = "json_extract(doc, '$.metadata.bench_phase') = ?";
    const statuses = Object.fromEntries(db.prepare(`SELECT status k, count(*) n FROM jobs WHERE ${where} GROUP BY k`).all(phase).map((r) => [String(r.k), Number(r.n)]));
    const span = db.prepare(`SELECT min(created_at) c, max(completed_at) d FROM jobs WHERE ${where}`).get(phase)!;
    const rows = db
      .prepare(
        `SELECT created_at c, json_extract(doc, '$.latency_ms.total') t, json_extract(doc, '$.latency_ms.queue') q, json_extract(doc, '$.latency_ms.provider') p FROM jobs WHERE status = 'completed' AND ${where} ORDER BY created_at`,
      )
      .all(phase);
    const out: PhaseRecords = { statuses, createdMs: [], added: [], provider: [], queue: [], firstCreatedMs: Date.parse(String(span.c)), lastCompletedMs: Date.parse(String(span.d)) };
    for (const r of rows) {
      out.createdMs.push(Date.parse(String(r.c)));
      out.added.push(Number(r.t) - Number(r.p));
      out.provider.push(Number(r.p));
      out.queue.push(Number(r.q));
    }
    return out;
  } finally {
    db.close();
  }
}

/**
 * The system's capacity, jobs/s: `jobs` jobs submitted at once with the provider at 0 ms (so the
 * CPU, not the provider, is the limit), from the first creation to the last completion. The
 * provider latency is set back to `providerMs` afterwards.
 */
export async function measureCapacity(s: SlowProvider, jobs: number, providerMs: number, timeoutMs: number): Promise<number> {
  await setProviderLatency(s.system.simulatorUrl, 0);
  try {
    const sent = await submitAll(s, 'capacity', jobs);
    const undone = await waitStored(s, 'capacity', sent.statuses[202] ?? 0, timeoutMs);
    if (undone) throw new Error(undone);
  } finally {
    await setProviderLatency(s.system.simulatorUrl, providerMs);
  }
  const r = readPhase(s.databasePath, 'capacity');
  return (r.added.length / (r.lastCompletedMs - r.firstCreatedMs)) * 1000;
}
