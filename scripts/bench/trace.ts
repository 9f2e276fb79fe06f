/**
 * The e2e section's round-trip trace: a system of its own (simulator at 0 ms, one worker, the API)
 * whose API and worker load the redisTrace.ts preload, and a few jobs sent strictly one at a time,
 * each a cache miss and a paid call (the happy path), each waited for until the system is idle again.
 * Then, per job (roundTrips.ts): the worker's sequential Redis round trips, the API's per POST, and
 * the commands both sent. The first job only warms up (scripts loaded, first budget snapshot).
 * Counts are measured, so they stay right as the code changes; timings are not used.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { Queue } from 'bullmq';
import { startSystem } from '../../libs/devkit/system.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { LLM_QUEUE, queuePrefix } from '../../libs/queue/jobs.ts';
import { TERMINAL_STATUSES } from '../../libs/store/types.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { deferCleanup } from './cleanup.ts';
import { backgroundCounts, jobRoundTrips, longestChain, median, sequence, traceJob, type JobTrace, type JobWindow, type TraceRecord } from './roundTrips.ts';

/** Options of runTrace. */
export interface TraceOptions {
  redisUrl: string;
  /** Folder for the store, the config copy and the trace files. */
  dir: string;
  configDir: string;
  /** Jobs measured after the warm-up job. @defaultValue 5 */
  jobs?: number;
  /** Give up on a job after this many ms. @defaultValue 15000 */
  jobTimeoutMs?: number;
}

/** Medians over the measured jobs, and the lines that show them. */
export interface TraceFigures {
  workerRoundTrips: number;
  /** Those of workerRoundTrips without the queue's fetch or finish in them (gatewayTrips). */
  gatewayRoundTrips: number;
  apiRoundTrips: number;
  /** Commands the API and the worker sent for one job (from the trace, Lua-internal calls not included). */
  clientCommands: number;
  details: string[];
}

const PRELOAD = new URL('./redisTrace.ts', import.meta.url).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The clock the preload stamps records with, comparable across processes.
const now = () => performance.timeOrigin + performance.now();

/** Runs the traced jobs; see the file comment. */
export async function runTrace(o: TraceOptions): Promise<TraceFigures> {
  const traceDir = join(o.dir, 'trace');
  const databasePath = join(o.dir, 'trace.sqlite');
  const system = await startSystem({
    simulatorKnobs: { openai: { latency: { kind: 'fixed', ms: 0 } }, anthropic: { latency: { kind: 'fixed', ms: 0 } } },
    env: { REDIS_URL: o.redisUrl, DATABASE_URL: databasePath, CONFIG_DIR: o.configDir, LOG_LEVEL: 'warn', NODE_OPTIONS: `--import=${PRELOAD}`, BENCH_REDIS_TRACE: traceDir },
  });
  const stopSystem = deferCleanup('trace system', async () => {
    await system.stop();
    await obliterateQueues(o.redisUrl, system.queuePrefix);
  });
  const connection = createRedis(o.redisUrl, 'bench-trace-poll');
  const queue = new Queue(LLM_QUEUE, { connection, prefix: queuePrefix(system.queuePrefix) });
  const windows: JobWindow[] = [];
  try {
    const db = new DatabaseSync(databasePath, { readOnly: true });
    try {
      const status = db.prepare('SELECT status FROM jobs WHERE id = ?');
      const run = Date.now().toString(36);
      for (let i = 0; i <= (o.jobs ?? 5); i++) {
        const s = careerSubmission(i) as { input: Record<string, unknown> };
        s.input.goals = `${(s.input.goals as string | undefined) ?? 'Grow in my field.'} (bench trace ${run} #${i})`;
        const postStart = now();
        const res = await fetch(`${system.apiUrl}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${system.apiKey}` },
          body: JSON.stringify(s),
        });
        const postEnd = now();
        const { id } = (await res.json()) as { id?: string };
        if (res.status !== 202 || !id) throw new Error(`trace: POST /v1/jobs answered ${res.status}`);
        const deadline = postEnd + (o.jobTimeoutMs ?? 15_000);
        // Done, and whatever it left behind (its category's generic answer) done too.
        for (;;) {
          const row = status.get(id) as { status?: string } | undefined;
          const counts = await queue.getJobCounts('wait', 'active', 'prioritized', 'delayed');
          if (TERMINAL_STATUSES.includes(row?.status as never) && Object.values(counts).every((n) => n === 0)) break;
          if (now() > deadline) throw new Error(`trace: job ${id} did not finish within ${o.jobTimeoutMs ?? 15_000} ms (store: ${row?.status})`);
          await sleep(2);
        }
        windows.push({ postStart, postEnd, idleAt: now() });
        await sleep(20);
      }
    } finally {
      db.close();
    }
    // Let the preload write its last records (it flushes every 100 ms and at exit).
    await sleep(250);
  } finally {
    await queue.close();
    connection.disconnect();
    await stopSystem();
  }
  const records: TraceRecord[] = readdirSync(traceDir).flatMap((f) =>
    readFileSync(join(traceDir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TraceRecord),
  );
  const jobs: JobTrace[] = windows.slice(1).map((w) => traceJob(records, w));
  const counted = jobs.map(jobRoundTrips);
  const workerTrips = median(counted.map((c) => c.all));
  const gatewayRoundTrips = median(counted.map((c) => c.gateway));
  const apiTrips = median(jobs.map((j) => j.apiTrips.length));
  const chains = jobs.map((j) => longestChain(j.worker));
  const clientCommands = median(jobs.map((j) => j.api.length + j.worker.length));
  const typical = jobs.find((j) => jobRoundTrips(j).all === workerTrips);
  const typicalApi = jobs.find((j) => j.apiTrips.length === apiTrips);
  const inWindows = records.filter((r) => windows.some((w) => r.start >= w.postStart && r.start < w.idleAt));
  return {
    workerRoundTrips: workerTrips,
    gatewayRoundTrips,
    apiRoundTrips: apiTrips,
    clientCommands,
    details: [
      `  round-trip trace: ${jobs.length} jobs one at a time on an idle system (after 1 warm-up job), each a cache miss and a paid call; API and worker traced with the redisTrace.ts preload`,
      `    worker round trips per job (busy periods or the longest chain below, whichever is more): ${counted.map((c) => c.all).join(', ')} (median ${workerTrips}), of which the gateway's own (without the queue's fetch and finish): median ${gatewayRoundTrips}; API round trips per POST: ${jobs.map((j) => j.apiTrips.length).join(', ')} (median ${apiTrips})`,
      `    longest chain of worker commands each sent after the previous answered (a fire-and-forget command cannot hide a step): ${chains.join(', ')} (median ${median(chains)})`,
      `    commands sent per job (API + worker, Lua-internal calls not included): ${jobs.map((j) => `${j.api.length}+${j.worker.length}`).join(', ')} (median ${clientCommands})`,
      `    worker sequence: ${typical ? sequence(typical.workerTrips) : 'n/a'}`,
      `    API sequence:    ${typicalApi ? sequence(typicalApi.apiTrips) : 'n/a'}`,
      `    left out (not a job's work, see roundTrips.ts): ${Object.entries(backgroundCounts(inWindows)).map(([why, n]) => `${why} ${n}`).join(', ')}`,
    ],
  };
}
