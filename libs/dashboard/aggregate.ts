/**
 * The operator dashboard's arithmetic over a recent window of finished jobs: spend by provider and
 * by variant, latency percentiles by provider, the error rate. Pure: the rows come from
 * JobStore.finishedRows, the answer is plain data the summary endpoint serves as it is.
 */
import { MICROS_PER_USD, microsToUsd } from '../budget/cost.ts';
import type { FinishedRow, ServedBy } from '../store/types.ts';

/** Latency percentiles in milliseconds; null when no job was measured. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Spend of one group in US dollars, and its jobs. */
export interface SpendLine {
  usd: number;
  jobs: number;
}

/** One variant of one experiment over the window. */
export interface VariantLine extends SpendLine {
  experiment: string;
  variant: string;
  /** Jobs of the variant that failed. */
  failed: number;
  /** The clients whose jobs these are, sorted (each has an A/B report of its own). */
  clients: string[];
  /** Provider latency percentiles of the variant's provider-answered jobs (milliseconds). */
  latency_ms: Percentiles;
}

/** What the window's finished jobs add up to. */
export interface WindowFigures {
  /** Finished jobs read (terminal records completed in the window). */
  jobs: number;
  spend: { total_usd: number; by_provider: Record<string, SpendLine>; by_variant: VariantLine[] };
  /** Provider latency (milliseconds) of jobs a provider answered, by provider. */
  latency_ms: Record<string, Percentiles & { jobs: number }>;
  errors: {
    /** Jobs that completed or failed (cancelled and rejected ones are no provider's error). */
    outcomes: number;
    failed: number;
    /** failed / outcomes, 0 to 1; null when there were no outcomes. */
    rate: number | null;
    /** Failed jobs by error code. */
    by_code: Record<string, number>;
  };
}

// Jobs answered without calling a provider: their latency says nothing about a provider's.
const NOT_A_PROVIDER_CALL: ReadonlySet<ServedBy> = new Set(['cache', 'stale_cache', 'category_cache', 'degraded']);

/**
 * Nearest-rank percentiles (p50, p95, p99) of `values` in milliseconds, each one of the values
 * (never an interpolation): what an operator reads is a latency some job really had.
 */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: null, p95: null, p99: null };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), p99: rank(99) };
}

/** The window's figures from its finished rows (any order). Each cost is rounded to micro-dollars before summing, as the budget counts them. */
export function windowFigures(rows: readonly FinishedRow[]): WindowFigures {
  const providerMicros = new Map<string, { micros: number; jobs: number }>();
  const variants = new Map<string, { experiment: string; variant: string; micros: number; jobs: number; failed: number; latencies: number[]; clients: Set<string> }>();
  const latencies = new Map<string, number[]>();
  const byCode: Record<string, number> = {};
  let totalMicros = 0;
  let outcomes = 0;
  let failed = 0;
  for (const row of rows) {
    const micros = row.cost_usd === null ? 0 : Math.round(row.cost_usd * MICROS_PER_USD);
    totalMicros += micros;
    const providerLatency = row.provider !== null && row.provider_latency_ms !== null && !(row.served_by && NOT_A_PROVIDER_CALL.has(row.served_by)) ? row.provider_latency_ms : null;
    if (row.provider !== null) {
      const line = providerMicros.get(row.provider) ?? { micros: 0, jobs: 0 };
      line.micros += micros;
      line.jobs += 1;
      providerMicros.set(row.provider, line);
      if (providerLatency !== null) {
        const list = latencies.get(row.provider);
        if (list) list.push(providerLatency);
        else latencies.set(row.provider, [providerLatency]);
      }
    }
    if (row.experiment_id !== null && row.variant !== null) {
      const key = JSON.stringify([row.experiment_id, row.variant]);
      const line = variants.get(key) ?? { experiment: row.experiment_id, variant: row.variant, micros: 0, jobs: 0, failed: 0, latencies: [], clients: new Set<string>() };
      line.clients.add(row.client_id);
      line.micros += micros;
      line.jobs += 1;
      if (row.status === 'failed') line.failed += 1;
      if (providerLatency !== null) line.latencies.push(providerLatency);
      variants.set(key, line);
    }
    if (row.status === 'completed' || row.status === 'failed') outcomes += 1;
    if (row.status === 'failed') {
      failed += 1;
      const code = row.error_code ?? 'unknown';
      byCode[code] = (byCode[code] ?? 0) + 1;
    }
  }
  return {
    jobs: rows.length,
    spend: {
      total_usd: microsToUsd(totalMicros),
      by_provider: Object.fromEntries([...providerMicros].sort(([a], [b]) => a.localeCompare(b)).map(([p, l]) => [p, { usd: microsToUsd(l.micros), jobs: l.jobs }])),
      by_variant: [...variants.values()]
        .sort((a, b) => a.experiment.localeCompare(b.experiment) || a.variant.localeCompare(b.variant))
        .map((l) => ({ experiment: l.experiment, variant: l.variant, usd: microsToUsd(l.micros), jobs: l.jobs, failed: l.failed, clients: [...l.clients].sort(), latency_ms: percentiles(l.latencies) })),
    },
    latency_ms: Object.fromEntries([...latencies].sort(([a], [b]) => a.localeCompare(b)).map(([p, values]) => [p, { jobs: values.length, ...percentiles(values) }])),
    errors: { outcomes, failed, rate: outcomes === 0 ? null : failed / outcomes, by_code: byCode },
  };
}
