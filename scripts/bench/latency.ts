/**
 * Section "latency": what the gateway adds to an LLM call of realistic length. A fresh system
 * (one worker at the product's default concurrency, since the figure is meant to tell whether that
 * default is sized right) whose simulated provider answers every call after 300 ms. Open loop:
 * 20 jobs/s (a light load), then half the system's capacity (the e2e section's jobs/s from the same
 * run; measured here first, with the provider at 0 ms, when e2e did not run). Added latency per
 * stored job = total - provider, queue wait included: at half capacity ~0.3 s x rate jobs are in
 * flight, and a worker that holds fewer at once makes the rest wait. Baseline: the provider call's
 * p99 in the same phase. A short warm-up at the light rate runs first, uncounted, so that the
 * first calls' connection set-up and compilation are not what the light p99 measures.
 */
import { ms, percentiles, rate, ratio, type Percentiles, type Row } from './stats.ts';
import { measureCapacity, readPhase, startSlowProvider, submitAtRate, type PhaseRecords, type SlowProvider, waitStored } from './slowProvider.ts';

/** Options for runLatency. */
export interface LatencyOptions {
  redisUrl: string;
  /** Jobs/s the e2e section measured in this run; NaN or undefined to measure it here. */
  capacityJobsPerS?: number;
  /** Fixed latency of the simulated provider, ms. @defaultValue 300 */
  providerMs?: number;
  /** Rate of the light phase, jobs/s. @defaultValue 20 */
  lightRate?: number;
  /** Length of the light phase, ms. @defaultValue 12000 */
  lightMs?: number;
  /** Length of the half-capacity phase, ms. @defaultValue 10000 */
  halfMs?: number;
  /** Jobs of the capacity measurement when e2e did not run. @defaultValue 2000 */
  capacityJobs?: number;
  /** Stop waiting for a phase's jobs this long after its load ended, ms (a backlog then fails the figure instead of stalling the bench). @defaultValue 45000 */
  timeoutMs?: number;
}

const TARGET_LIGHT_P99_MS = 10;
const TARGET_HALF_P99_MS = 50;
const WARMUP_MS = 2500;

const fmt = (p: Percentiles) => `p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}`;

/** Runs one open-loop phase and answers its stored records and detail lines. */
async function phase(s: SlowProvider, name: string, jobsPerS: number, durationMs: number, timeoutMs: number): Promise<{ records: PhaseRecords; sent: number; lines: string[] }> {
  const sent = await submitAtRate(s, name, jobsPerS, durationMs);
  const undone = await waitStored(s, name, sent.statuses[202] ?? 0, timeoutMs);
  const records = readPhase(s.databasePath, name);
  const expected = sent.sent;
  return {
    records,
    sent: expected,
    lines: [
      `  ${name}: open loop at ${rate(jobsPerS, ' jobs/s')} for ${(durationMs / 1000).toFixed(1)} s: ${sent.statuses[202] ?? 0}/${expected} accepted, POST ${fmt(percentiles(sent.latencies))}` +
        `${sent.errors ? `, transport errors ${sent.errors} (${sent.firstError})` : ''}; stored ${JSON.stringify(records.statuses)}`,
      ...(undone ? [`    ${undone}`] : []),
      `    added (total-provider) ${fmt(percentiles(records.added))}`,
      `    of which queue wait    ${fmt(percentiles(records.queue))}`,
      `    provider               ${fmt(percentiles(records.provider))}`,
    ],
  };
}

/** One table row for the added-latency p99 of a phase, against the provider's p99. */
function row(name: string, figure: string, r: PhaseRecords, sentJobs: number, targetMs: number): Row {
  const added = percentiles(r.added);
  const provider = percentiles(r.provider);
  return {
    section: 'latency',
    figure,
    measured: `${ms(added.p99)} (p50 ${ms(added.p50)})`,
    baseline: `provider call p99 ${ms(provider.p99)}`,
    ratio: ratio(added.p99, provider.p99),
    target: `<= ${targetMs} ms`,
    // Every job sent must have completed: a refused or failed job has no latency to count.
    pass: added.count > 0 && added.count === sentJobs && added.p99 <= targetMs,
    name,
    value: added.p99,
    unit: 'ms',
    baselineValue: provider.p99,
  };
}

/** Runs the latency section. */
export async function runLatency(o: LatencyOptions): Promise<{ rows: Row[]; details: string[] }> {
  const providerMs = o.providerMs ?? 300;
  const lightRate = o.lightRate ?? 20;
  const lightMs = o.lightMs ?? 12_000;
  const halfMs = o.halfMs ?? 10_000;
  const timeoutMs = o.timeoutMs ?? 45_000;
  const s = await startSlowProvider({ redisUrl: o.redisUrl, name: 'latency', providerMs });
  try {
    const details = [`latency: 1 worker at the default concurrency, simulator at a fixed ${providerMs} ms, prefix {${s.system.queuePrefix}}`];
    let capacity = o.capacityJobsPerS ?? NaN;
    if (Number.isFinite(capacity) && capacity > 0) {
      details.push(`  capacity: ${rate(capacity, ' jobs/s')}, as the e2e section measured it in this run`);
    } else {
      const jobs = o.capacityJobs ?? 2000;
      capacity = await measureCapacity(s, jobs, providerMs, timeoutMs);
      details.push(`  capacity: ${rate(capacity, ' jobs/s')}, ${jobs} jobs at once with the provider at 0 ms (e2e did not run)`);
    }
    const warm = await phase(s, 'latency-warmup', lightRate, WARMUP_MS, timeoutMs);
    details.push(`  warm-up, not counted: ${warm.records.added.length} jobs at ${lightRate} jobs/s`);

    const light = await phase(s, 'latency-light', lightRate, lightMs, timeoutMs);
    const halfRate = Math.max(1, Math.floor(capacity / 2));
    const half = await phase(s, 'latency-half', halfRate, halfMs, timeoutMs);
    details.push(...light.lines, ...half.lines);
    details.push(`  at ${halfRate} jobs/s x ${providerMs / 1000} s about ${Math.round((halfRate * providerMs) / 1000)} jobs are in flight at once`);
    return {
      rows: [
        row('added_latency_p99_ms_light', `added latency p99 @${lightRate} jobs/s, ${providerMs} ms provider`, light.records, light.sent, TARGET_LIGHT_P99_MS),
        row('added_latency_p99_ms_half', `added latency p99 @${halfRate} jobs/s (half capacity), ${providerMs} ms provider`, half.records, half.sent, TARGET_HALF_P99_MS),
      ],
      details,
    };
  } finally {
    await s.stop();
  }
}
