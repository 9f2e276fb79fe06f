/**
 * What one arm's jobs add up to (a variant's, or a variant's within one category value): counts,
 * and the values each test needs gathered into arrays of their own. Built for all cells of a
 * grouping at once, in two passes over the row table (count, then fill).
 */
import { SERVED_BY_KEYS, STATUS, type RowTable } from './rowTable.ts';
import type { ServedByKey } from './reportTypes.ts';

/** One cell's figures. */
export interface ArmSample {
  jobs: number;
  completed: number;
  failed: number;
  rejected: number;
  /** Completed jobs answered by the degraded fallback. */
  degraded: number;
  servedBy: Record<ServedByKey, number>;
  modelServed: number;
  /** Tokens and US dollars of model-served answers. */
  modelTokens: { input: number; output: number; costUsd: number };
  /** Distinct units; 0 unless asked for. */
  units: number;
  /** US dollars of every job (0 for a job without a cost). */
  jobCosts: Float64Array;
  /** US dollars of each completed job. */
  successfulCosts: Float64Array;
  /** Provider milliseconds of model-served answers, ascending. */
  sortedLatencies: Float64Array;
  /** Ratings of model-served answers. */
  ratings: Float64Array;
}

/** Per-cell counters, one typed array each (cheaper than object fields in a loop over every row). */
function counters(cells: number) {
  const zeros = () => new Int32Array(cells);
  return { jobs: zeros(), completed: zeros(), failed: zeros(), rejected: zeros(), degraded: zeros(), modelServed: zeros(), latencies: zeros(), ratings: zeros() };
}

/**
 * The samples of `cells` cells, where `cellOfRow[i]` is row i's cell (or -1 to leave it out).
 * `countUnits` also counts each cell's distinct units (one byte per unit and cell).
 */
export function cellSamples(table: RowTable, cells: number, cellOfRow: Int32Array, countUnits = false): ArmSample[] {
  const { status, degraded, servedBy, modelServed, inputTokens, outputTokens, cost, latency, rating } = table;
  const count = counters(cells);
  const kinds = SERVED_BY_KEYS.length;
  const servedByCount = new Int32Array(cells * kinds);
  const tokens = new Float64Array(cells * 3);
  for (let i = 0; i < table.rows; i++) {
    const c = cellOfRow[i]!;
    if (c < 0) continue;
    count.jobs[c]!++;
    const st = status[i]!;
    if (st === STATUS.failed) count.failed[c]!++;
    else if (st === STATUS.rejected) count.rejected[c]!++;
    if (st !== STATUS.completed) continue;
    count.completed[c]!++;
    count.degraded[c]! += degraded[i]!;
    servedByCount[c * kinds + servedBy[i]!]!++;
    if (!modelServed[i]) continue;
    count.modelServed[c]!++;
    tokens[3 * c]! += inputTokens[i]!;
    tokens[3 * c + 1]! += outputTokens[i]!;
    tokens[3 * c + 2]! += cost[i]!;
    if (latency[i] === latency[i]) count.latencies[c]!++; // false only for NaN
    if (rating[i] === rating[i]) count.ratings[c]!++;
  }
  const samples: ArmSample[] = Array.from({ length: cells }, (_, c) => ({
    jobs: count.jobs[c]!,
    completed: count.completed[c]!,
    failed: count.failed[c]!,
    rejected: count.rejected[c]!,
    degraded: count.degraded[c]!,
    servedBy: Object.fromEntries(SERVED_BY_KEYS.map((key, k) => [key, servedByCount[c * kinds + k]!])) as Record<ServedByKey, number>,
    modelServed: count.modelServed[c]!,
    modelTokens: { input: tokens[3 * c]!, output: tokens[3 * c + 1]!, costUsd: tokens[3 * c + 2]! },
    units: 0,
    jobCosts: new Float64Array(count.jobs[c]!),
    successfulCosts: new Float64Array(count.completed[c]!),
    sortedLatencies: new Float64Array(count.latencies[c]!),
    ratings: new Float64Array(count.ratings[c]!),
  }));
  // Second pass: each value goes to its cell's next free slot.
  const next = counters(cells);
  for (let i = 0; i < table.rows; i++) {
    const c = cellOfRow[i]!;
    if (c < 0) continue;
    const s = samples[c]!;
    s.jobCosts[next.jobs[c]!++] = cost[i]!;
    if (status[i] !== STATUS.completed) continue;
    s.successfulCosts[next.completed[c]!++] = cost[i]!;
    if (latency[i] === latency[i]) s.sortedLatencies[next.latencies[c]!++] = latency[i]!;
    if (rating[i] === rating[i]) s.ratings[next.ratings[c]!++] = rating[i]!;
  }
  for (const s of samples) s.sortedLatencies.sort();
  if (countUnits) countDistinctUnits(table, samples, cellOfRow);
  return samples;
}

function countDistinctUnits(table: RowTable, samples: ArmSample[], cellOfRow: Int32Array): void {
  const seen = samples.map(() => new Uint8Array(table.units));
  for (let i = 0; i < table.rows; i++) {
    const c = cellOfRow[i]!;
    if (c < 0 || seen[c]![table.unit[i]!]) continue;
    seen[c]![table.unit[i]!] = 1;
    samples[c]!.units++;
  }
}

/** Each variant's sample (holdout and unassigned rows left out), with distinct units, by arm index. */
export function variantSamples(table: RowTable): ArmSample[] {
  const variants = table.variants.length;
  const cellOfRow = table.arm.map((arm) => (arm < variants ? arm : -1));
  return cellSamples(table, variants, cellOfRow, true);
}
