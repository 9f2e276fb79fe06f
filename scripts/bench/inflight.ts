/**
 * Section "memory": what 2,000 jobs in flight at once cost one worker process. A fresh system with
 * one worker at WORKER_CONCURRENCY 2000 and a provider that answers after 2 s; 2,000 jobs submitted
 * at once; the worker's RSS read every 100 ms until the queue is empty. Figure: the peak RSS, MB;
 * baseline: the same worker's RSS when idle, just before the load. Whether ~2,000 really were in
 * flight together is checked, not assumed: the simulator's count of calls it is answering and the
 * queue's active count are sampled alongside, and their peaks are reported.
 */
import { performance } from 'node:perf_hooks';
import { RssSampler } from './memory.ts';
import { ms, rate, ratio, type Row } from './stats.ts';
import { providerInFlight, readPhase, startSlowProvider, submitAll, waitStored } from './slowProvider.ts';

/** Options for runInflight. */
export interface InflightOptions {
  redisUrl: string;
  /** Jobs submitted at once, and the worker's concurrency. @defaultValue 2000 */
  jobs?: number;
  /** Fixed latency of the simulated provider, ms. @defaultValue 2000 */
  providerMs?: number;
  /** Give up waiting for the jobs after this long, ms. @defaultValue 90000 */
  timeoutMs?: number;
}

const TARGET_MB = 250;

/** Runs the memory section. */
export async function runInflight(o: InflightOptions): Promise<{ rows: Row[]; details: string[] }> {
  const jobs = o.jobs ?? 2000;
  const providerMs = o.providerMs ?? 2000;
  const s = await startSlowProvider({ redisUrl: o.redisUrl, name: 'memory', providerMs, env: { WORKER_CONCURRENCY: String(jobs) } });
  try {
    // Let start-up settle (module loading, first connections) before the idle reading.
    await new Promise((r) => setTimeout(r, 1000));
    const idle = new RssSampler(s.workerPid);
    idle.start();
    await new Promise((r) => setTimeout(r, 500));
    const idleSamples = idle.stop();
    const idleMb = idleSamples.length ? idleSamples.reduce((a, b) => a + b.mb, 0) / idleSamples.length : NaN;

    const sampler = new RssSampler(s.workerPid);
    let peakProvider = 0;
    let peakActive = 0;
    let polling = true;
    // One poll at a time, every ~100 ms: the counts cost the simulator and Redis one request each.
    const poll = (async () => {
      while (polling) {
        const [inFlight, counts] = await Promise.all([providerInFlight(s.system.simulatorUrl).catch(() => 0), s.queue.getJobCounts('active')]);
        peakProvider = Math.max(peakProvider, inFlight);
        peakActive = Math.max(peakActive, counts.active ?? 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    sampler.start();
    const t0 = performance.now();
    const submitted = await submitAll(s, 'memory', jobs);
    const submitMs = performance.now() - t0;
    let undone: string | null;
    try {
      undone = await waitStored(s, 'memory', submitted.statuses[202] ?? 0, o.timeoutMs ?? 90_000);
    } finally {
      sampler.stop();
      polling = false;
      await poll;
    }
    const wallMs = performance.now() - t0;
    const peakMb = sampler.peakMb();
    const stored = readPhase(s.databasePath, 'memory');
    const completed = stored.statuses.completed ?? 0;
    const details = [
      `memory: 1 worker at concurrency ${jobs}, simulator at a fixed ${providerMs} ms, prefix {${s.system.queuePrefix}}`,
      `  ${submitted.statuses[202] ?? 0}/${jobs} accepted in ${ms(submitMs)} (${rate((jobs / submitMs) * 1000, ' req/s')}); all done after ${(wallMs / 1000).toFixed(1)} s; stored ${JSON.stringify(stored.statuses)}`,
      ...(undone ? [`  ${undone}`] : []),
      `  in flight at once, peak: ${peakProvider} calls at the simulator, ${peakActive} jobs active in the queue`,
      `  worker RSS: idle ${idleMb.toFixed(0)} MB, peak ${peakMb.toFixed(0)} MB over ${sampler.samples.length} readings (+${(peakMb - idleMb).toFixed(0)} MB, ${(((peakMb - idleMb) * 1024) / Math.max(1, peakProvider)).toFixed(0)} kB per call in flight)`,
    ];
    return {
      rows: [
        {
          section: 'memory',
          figure: `worker RSS, ${jobs} jobs in flight (${providerMs / 1000} s provider; peak ${peakProvider} at once)`,
          measured: `${peakMb.toFixed(0)} MB`,
          baseline: `idle worker ${idleMb.toFixed(0)} MB`,
          ratio: ratio(peakMb, idleMb),
          target: `<= ${TARGET_MB} MB`,
          pass: completed === jobs && peakMb <= TARGET_MB,
          name: 'inflight_rss_mb',
          value: peakMb,
          unit: 'MB',
          baselineValue: idleMb,
        },
        {
          section: 'memory',
          figure: 'provider calls in flight at once, peak',
          measured: String(peakProvider),
          baseline: `jobs submitted ${jobs}`,
          ratio: ratio(peakProvider, jobs),
          target: '-',
          pass: null,
          name: 'inflight_peak_calls',
          value: peakProvider,
          unit: 'count',
          baselineValue: jobs,
        },
      ],
      details,
    };
  } finally {
    await s.stop();
  }
}
