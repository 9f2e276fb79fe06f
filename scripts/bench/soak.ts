/**
 * Section "soak" (`npm run bench -- --soak [--soak-minutes 10]`, not in the default run): a steady
 * open-loop load at 30% of the system's capacity (measured first with the provider at 0 ms) with a
 * 300 ms provider, for minutes, to show that nothing accumulates: the worker's and the API's RSS are
 * read every second, and the added latency (total - provider, queue wait included) is summed up per
 * window of a minute (of half the run when it is shorter than two minutes). Figures: the growth of
 * the worker's median RSS from the first window to the last (a leak grows it), and the first and
 * last windows' added-latency p99 (steady when the last is at most 1.5 x the first + 5 ms). A
 * warm-up at the same rate comes first and is not counted, since the heap grows to its working size
 * then.
 */
import { performance } from 'node:perf_hooks';
import { growthPct, median, p99Steady, RssSampler, valuesIn, windows } from './memory.ts';
import { ms, percentiles, rate, type Row } from './stats.ts';
import { measureCapacity, readPhase, startSlowProvider, submitAtRate, waitStored } from './slowProvider.ts';

/** Options for runSoak. */
export interface SoakOptions {
  redisUrl: string;
  /** Minutes of measured load, after the warm-up. @defaultValue 10 */
  minutes?: number;
  /** Share of the capacity to run at. @defaultValue 0.3 */
  share?: number;
  /** Fixed latency of the simulated provider, ms. @defaultValue 300 */
  providerMs?: number;
  /** Jobs of the capacity measurement. @defaultValue 2000 */
  capacityJobs?: number;
}

const TARGET_GROWTH_PCT = 10;
const RSS_EVERY_MS = 1000;

/** Runs the soak section. */
export async function runSoak(o: SoakOptions): Promise<{ rows: Row[]; details: string[] }> {
  const soakMs = (o.minutes ?? 10) * 60_000;
  const share = o.share ?? 0.3;
  const providerMs = o.providerMs ?? 300;
  const warmupMs = Math.min(30_000, soakMs / 4);
  const windowMs = Math.min(60_000, soakMs / 2);
  const s = await startSlowProvider({ redisUrl: o.redisUrl, name: 'soak', providerMs });
  try {
    const capacityJobs = o.capacityJobs ?? 2000;
    const capacity = await measureCapacity(s, capacityJobs, providerMs, 60_000);
    const jobsPerS = Math.max(1, Math.floor(capacity * share));
    const details = [
      `soak: 1 worker at the default concurrency, simulator at a fixed ${providerMs} ms, prefix {${s.system.queuePrefix}}`,
      `  capacity ${rate(capacity, ' jobs/s')} (${capacityJobs} jobs at once, provider at 0 ms); load ${rate(jobsPerS, ' jobs/s')} = ${share * 100}% of it`,
    ];
    const worker = new RssSampler(s.workerPid, RSS_EVERY_MS);
    const api = new RssSampler(s.apiPid, RSS_EVERY_MS);
    worker.start();
    api.start();
    await submitAtRate(s, 'soak-warmup', jobsPerS, warmupMs);
    const fromEpoch = Date.now();
    const fromPerf = performance.now();
    const sent = await submitAtRate(s, 'soak', jobsPerS, soakMs);
    // Sampling stops only once the last jobs are done: their memory counts too.
    const undone = await waitStored(s, 'soak', sent.statuses[202] ?? 0, 60_000);
    worker.stop();
    api.stop();

    const records = readPhase(s.databasePath, 'soak');
    const completed = records.statuses.completed ?? 0;
    const wins = windows(fromEpoch, fromEpoch + soakMs, windowMs);
    // RSS samples are timed on the monotonic clock; jobs by their creation (epoch ms).
    const perfWins = wins.map((w) => ({ from: w.from - fromEpoch + fromPerf, to: w.to - fromEpoch + fromPerf }));
    const rssIn = (r: RssSampler) => valuesIn(perfWins, r.samples.map((x) => x.atMs), r.samples.map((x) => x.mb)).map(median);
    const workerMb = rssIn(worker);
    const apiMb = rssIn(api);
    const added = valuesIn(wins, records.createdMs, records.added).map((v) => percentiles(v));
    const provider = percentiles(records.provider);
    details.push(
      `  ${sent.statuses[202] ?? 0}/${sent.sent} accepted over ${(soakMs / 60_000).toFixed(1)} min after ${(warmupMs / 1000).toFixed(0)} s of warm-up; stored ${JSON.stringify(records.statuses)}`,
      ...(undone ? [`  ${undone}`] : []),
      `  per window of ${(windowMs / 1000).toFixed(0)} s: jobs, added latency p50/p99, worker RSS, API RSS (medians)`,
      ...wins.map(
        (_, i) => `    #${i + 1}  ${String(added[i]!.count).padStart(6)}  ${ms(added[i]!.p50)} / ${ms(added[i]!.p99)}  worker ${workerMb[i]!.toFixed(1)} MB  api ${apiMb[i]!.toFixed(1)} MB`,
      ),
      `  provider call over the whole run: p50 ${ms(provider.p50)} p99 ${ms(provider.p99)}`,
    );
    const last = wins.length - 1;
    const first = added[0]!;
    const lastAdded = added[last]!;
    const workerGrowth = growthPct(workerMb[0]!, workerMb[last]!);
    const apiGrowth = growthPct(apiMb[0]!, apiMb[last]!);
    const allDone = completed === sent.sent;
    const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)}%` : 'n/a');
    const span = `${(windowMs / 1000).toFixed(0)} s`;
    return {
      rows: [
        {
          section: 'soak',
          figure: `worker RSS growth, first to last ${span} (${(soakMs / 60_000).toFixed(1)} min at ${jobsPerS} jobs/s)`,
          measured: pct(workerGrowth),
          baseline: `first window ${workerMb[0]!.toFixed(0)} MB`,
          ratio: '-',
          target: `<= ${TARGET_GROWTH_PCT}%`,
          pass: allDone && wins.length > 1 && workerGrowth <= TARGET_GROWTH_PCT,
          name: 'soak_rss_growth_pct',
          value: workerGrowth,
          unit: '%',
          baselineValue: null,
        },
        {
          section: 'soak',
          figure: `API RSS growth, first to last ${span}`,
          measured: pct(apiGrowth),
          baseline: `first window ${apiMb[0]!.toFixed(0)} MB`,
          ratio: '-',
          target: '-',
          pass: null,
          name: 'soak_api_rss_growth_pct',
          value: apiGrowth,
          unit: '%',
          baselineValue: null,
        },
        {
          section: 'soak',
          figure: `added latency p99, first ${span}`,
          measured: ms(first.p99),
          baseline: `provider call p99 ${ms(provider.p99)}`,
          ratio: '-',
          target: '-',
          pass: null,
          name: 'soak_p99_ms_first_window',
          value: first.p99,
          unit: 'ms',
          baselineValue: provider.p99,
        },
        {
          section: 'soak',
          figure: `added latency p99, last ${span}`,
          measured: ms(lastAdded.p99),
          baseline: `first window ${ms(first.p99)}`,
          ratio: '-',
          target: '<= 1.5x first + 5 ms',
          pass: allDone && wins.length > 1 && p99Steady(first.p99, lastAdded.p99),
          name: 'soak_p99_ms_last_window',
          value: lastAdded.p99,
          unit: 'ms',
          baselineValue: first.p99,
        },
      ],
      details,
    };
  } finally {
    await s.stop();
  }
}
