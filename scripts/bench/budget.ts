/**
 * Section "budget": the reserve-plus-settle overhead per job (target: p99 <= 1 ms at 1,000 jobs/s).
 * An open loop starts one job per 1/rate seconds on a timer, whatever the previous ones are doing;
 * each job reserves a hold and settles it at once (the two Lua scripts a real job runs around its
 * provider call), timed from the reserve call to the settle's answer. Baseline, same run, same
 * connection settings: the same loop doing two sequential PINGs, the floor of two round trips.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { createRedis } from '../../libs/redis/connection.ts';
import { obliterateQueues } from '../../libs/devkit/cleanup.ts';
import { queuePrefix } from '../../libs/queue/jobs.ts';
import { deferCleanup } from './cleanup.ts';
import { ms, percentiles, ratio, type Percentiles, type Row } from './stats.ts';

export interface BudgetOptions {
  redisUrl: string;
  /** Jobs started per second. */
  rate: number;
  /** Milliseconds each loop runs. */
  durationMs: number;
  /** Rounds of (baseline, real) loops; the figures are the medians over rounds. Default 3. */
  rounds?: number;
}

/** The round whose p99 is the median, so one noisy round on a shared VM does not decide the verdict. */
function medianRound(results: OpenLoopResult[]): OpenLoopResult {
  return [...results].sort((a, b) => a.latency.p99 - b.latency.p99)[Math.floor(results.length / 2)]!;
}

interface OpenLoopResult {
  latency: Percentiles;
  /** How late the timer started jobs, ms (a busy event loop shows here, not in the latency). */
  lag: Percentiles;
  /** Jobs actually started per second. */
  achievedRate: number;
  failures: number;
  firstFailure?: string;
}

/** Starts `op(i)` at `rate` per second for `durationMs`; times each from its start to its end. */
async function openLoop(rate: number, durationMs: number, op: (i: number) => Promise<void>): Promise<OpenLoopResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const lags: number[] = [];
  const running = new Set<Promise<void>>();
  let failures = 0;
  let firstFailure: string | undefined;
  const start = performance.now() + 5;
  let next = 0;
  const launch = (i: number, due: number) => {
    const t0 = performance.now();
    lags.push(t0 - due);
    const p = op(i).then(
      () => void latencies.push(performance.now() - t0),
      (e: unknown) => {
        failures++;
        firstFailure ??= e instanceof Error ? e.message : String(e);
      },
    );
    running.add(p);
    void p.finally(() => running.delete(p));
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        launch(next, start + next * interval);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now() - 0.5));
      else resolve();
    };
    setTimeout(tick, 5);
  });
  const elapsed = performance.now() - start;
  await Promise.all(running);
  return { latency: percentiles(latencies), lag: percentiles(lags), achievedRate: (total / elapsed) * 1000, failures, firstFailure };
}

export async function runBudget(o: BudgetOptions): Promise<{ rows: Row[]; details: string[] }> {
  const prefixName = `bench-budget-${randomUUID().slice(0, 8)}`;
  const prefix = queuePrefix(prefixName);
  // The same connection settings as the worker's budget connection (apps/worker/main.ts).
  const redis = createRedis(o.redisUrl, 'bench-budget', { autoPipelining: false });
  const cleanup = deferCleanup('budget keys', async () => {
    redis.disconnect();
    await obliterateQueues(o.redisUrl, prefixName);
  });
  try {
    const budget = new BudgetStore(redis, prefix);
    // Never refuses: $1e9 a month, no daily limit.
    const limits = { monthlyMicros: 1e15, dailyMicros: null };
    const amountMicros = 60_000; // about a GPT-4 worst case for one career plan
    const run = `${Date.now()}`;
    const job = async (i: number) => {
      const holdId = `bench-${run}-${i}:1:0`;
      const held = await budget.reserve({ holdId, amountMicros, limits, ttlMs: 600_000 });
      if (!held.ok) throw new Error(`reservation refused (${held.window})`);
      const settled = await budget.settle(holdId, 31_000);
      if (!settled.settled) throw new Error(`settle answered ${settled.status}`);
    };
    const ping = async () => {
      await redis.ping();
      await redis.ping();
    };
    // Warm up: connection, script loading (EVALSHA), JIT.
    for (let i = 0; i < 300; i++) await job(-1 - i);
    for (let i = 0; i < 300; i++) await ping();

    // Alternate baseline and real loops, so both see the same background load.
    const bases: OpenLoopResult[] = [];
    const reals: OpenLoopResult[] = [];
    let offset = 0;
    for (let round = 0; round < (o.rounds ?? 3); round++) {
      bases.push(await openLoop(o.rate, o.durationMs, ping));
      const from = offset;
      reals.push(await openLoop(o.rate, o.durationMs, (i) => job(from + i)));
      offset += Math.round((o.rate * o.durationMs) / 1000);
    }
    const base = medianRound(bases);
    const real = medianRound(reals);
    const failures = reals.reduce((n, x) => n + x.failures, 0);
    const r = real.latency;
    const b = base.latency;
    const rows: Row[] = [
      { section: 'budget', figure: `reserve+settle p50 @${o.rate}/s`, measured: ms(r.p50), baseline: `2xPING ${ms(b.p50)}`, ratio: ratio(r.p50, b.p50), target: '-', pass: null, name: 'budget_reserve_settle_p50_ms', value: r.p50, unit: 'ms', baselineValue: b.p50 },
      { section: 'budget', figure: `reserve+settle p95 @${o.rate}/s`, measured: ms(r.p95), baseline: `2xPING ${ms(b.p95)}`, ratio: ratio(r.p95, b.p95), target: '-', pass: null, name: 'budget_reserve_settle_p95_ms', value: r.p95, unit: 'ms', baselineValue: b.p95 },
      {
        section: 'budget',
        figure: `reserve+settle p99 @${o.rate}/s`,
        measured: ms(r.p99),
        baseline: `2xPING ${ms(b.p99)}`,
        ratio: ratio(r.p99, b.p99),
        target: '<= 1 ms',
        pass: r.p99 <= 1 && failures === 0,
        name: 'budget_reserve_settle_p99_ms',
        value: r.p99,
        unit: 'ms',
        baselineValue: b.p99,
      },
    ];
    const line = (name: string, x: OpenLoopResult) =>
      `  ${name.padEnd(19)} n=${x.latency.count}  p50 ${ms(x.latency.p50)}  p95 ${ms(x.latency.p95)}  p99 ${ms(x.latency.p99)}  max ${ms(x.latency.max)}` +
      `  | started ${x.achievedRate.toFixed(0)}/s, timer lag p99 ${ms(x.lag.p99)}${x.failures ? `  | ${x.failures} FAILED (${x.firstFailure})` : ''}`;
    const details = [
      `budget: open loop at ${o.rate} jobs/s for ${(o.durationMs / 1000).toFixed(1)} s each, ${reals.length} rounds (figures: the median round by p99), prefix {${prefixName}}`,
      ...reals.flatMap((x, k) => [line(`reserve+settle #${k + 1}`, x), line(`2xPING base #${k + 1}`, bases[k]!)]),
    ];
    return { rows, details };
  } finally {
    await cleanup();
  }
}
