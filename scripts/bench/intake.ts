/**
 * Section "intake": POST /v1/jobs throughput of the real API process against a bare Express route
 * that only enqueues (bareIntake.ts), each a separate process on the same Redis, driven by the same
 * closed-loop generator with the same valid career submissions. No worker runs: jobs just queue,
 * and each side's queue is obliterated afterwards. Target: the API at 60% or more of the bare route.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startApp } from '../../libs/devkit/processes.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { careerSubmission } from '../demo/profiles.ts';
import { startScript } from './child.ts';
import { deferCleanup } from './cleanup.ts';
import { closedLoop, jsonPost, type ClosedLoopResult } from './loadgen.ts';
import { ms, percentiles, rate, ratio, type Row } from './stats.ts';

export interface IntakeOptions {
  redisUrl: string;
  connections: number;
  warmupMs: number;
  measureMs: number;
}

const BODIES = 1024;

interface Side {
  name: string;
  result: ClosedLoopResult;
  rps: number;
}

async function drive(name: string, port: number, apiKey: string, o: IntakeOptions): Promise<Side> {
  const requests = Array.from({ length: BODIES }, (_, i) =>
    jsonPost('127.0.0.1', port, '/v1/jobs', JSON.stringify(careerSubmission(i)), { Authorization: `Bearer ${apiKey}` }),
  );
  const result = await closedLoop({ host: '127.0.0.1', port, connections: o.connections, warmupMs: o.warmupMs, measureMs: o.measureMs, request: (i) => requests[i % BODIES]! });
  const accepted = result.statuses[202] ?? 0;
  return { name, result, rps: (accepted / result.durationMs) * 1000 };
}

export async function runIntake(o: IntakeOptions): Promise<{ rows: Row[]; details: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'llm-gateway-bench-intake-'));
  const removeTmp = deferCleanup('intake temp dir', async () => rmSync(tmp, { recursive: true, force: true }));
  const apiKey = `gk_${randomBytes(24).toString('base64url')}`;
  try {
    // Baseline: the bare route.
    const barePrefix = `bench-bare-${randomUUID().slice(0, 8)}`;
    const barePort = await freePort();
    const bareProcess = await startScript(fileURLToPath(new URL('./bareIntake.ts', import.meta.url)), { PORT: String(barePort), REDIS_URL: o.redisUrl, BENCH_QUEUE_PREFIX: barePrefix }, /bare intake listening/);
    const stopBare = deferCleanup('bare intake', async () => {
      await bareProcess.stop();
      await obliterateQueues(o.redisUrl, barePrefix);
    });
    let bare: Side;
    try {
      bare = await drive('bare', barePort, apiKey, o);
    } finally {
      await stopBare();
    }

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
        LOG_LEVEL: 'warn',
      },
    });
    const stopApi = deferCleanup('api', async () => {
      await apiProcess.stop();
      await obliterateQueues(o.redisUrl, apiPrefix);
    });
    let api: Side;
    try {
      api = await drive('api', apiPort, apiKey, o);
    } finally {
      await stopApi();
    }

    const a = percentiles(api.result.latencies);
    const b = percentiles(bare.result.latencies);
    const ok = (s: Side) => s.result.errors === 0 && Object.keys(s.result.statuses).every((k) => k === '202');
    const rows: Row[] = [
      {
        section: 'intake',
        figure: `POST /v1/jobs throughput (${o.connections} conns)`,
        measured: rate(api.rps, ' req/s'),
        baseline: `bare ${rate(bare.rps, ' req/s')}`,
        ratio: ratio(api.rps, bare.rps),
        target: '>= 0.60x bare',
        pass: api.rps >= 0.6 * bare.rps && ok(api) && ok(bare),
      },
      { section: 'intake', figure: 'POST /v1/jobs latency p50', measured: ms(a.p50), baseline: `bare ${ms(b.p50)}`, ratio: ratio(a.p50, b.p50), target: '-', pass: null },
      { section: 'intake', figure: 'POST /v1/jobs latency p99', measured: ms(a.p99), baseline: `bare ${ms(b.p99)}`, ratio: ratio(a.p99, b.p99), target: '-', pass: null },
    ];
    const line = (s: Side, p: ReturnType<typeof percentiles>) =>
      `  ${s.name.padEnd(5)} ${rate(s.rps, ' req/s').padStart(12)}  p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}` +
      `  statuses ${JSON.stringify(s.result.statuses)}${s.result.errors ? `  transport errors ${s.result.errors} (${s.result.firstError})` : ''}`;
    const details = [
      `intake: ${o.connections} keep-alive connections, ${o.warmupMs / 1000} s warm-up excluded, ${o.measureMs / 1000} s measured, ${BODIES} distinct career submissions`,
      line(bare, b),
      line(api, a),
    ];
    return { rows, details };
  } finally {
    await removeTmp();
  }
}
