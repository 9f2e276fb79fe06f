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
 * The samples of `cells` cells. Each grouping names every row's cell (`grouping[i]`, or -1 to
 * leave row i out of it); several groupings with cells of their own (the category fields) are
 * filled in the same two passes, so each row's figures are read once. `countUnits` also counts
 * each cell's distinct units (one byte per unit and cell).
 */
export function cellSamples(table: RowTable, cells: number, groupings: readonly Int32Array[], countUnits = false): ArmSample[] {
  const { status, degraded, servedBy, modelServed, inputTokens, outputTokens, cost, latency, rating } = table;
  const count = counters(cells);
  const kinds = SERVED_BY_KEYS.length;
  const servedByCount = new Int32Array(cells * kinds);
  const tokens = new Float64Array(cells * 3);
  const countRow = (c: number, i: number) => {
    count.jobs[c]!++;
    const st = status[i]!;
    if (st === STATUS.failed) count.failed[c]!++;
    else if (st === STATUS.rejected) count.rejected[c]!++;
    if (st !== STATUS.completed) return;
    count.completed[c]!++;
    count.degraded[c]! += degraded[i]!;
    servedByCount[c * kinds + servedBy[i]!]!++;
    if (!modelServed[i]) return;
    count.modelServed[c]!++;
    tokens[3 * c]! += inputTokens[i]!;
    tokens[3 * c + 1]! += outputTokens[i]!;
    tokens[3 * c + 2]! += cost[i]!;
    if (latency[i] === latency[i]) count.latencies[c]!++; // false only for NaN
    if (rating[i] === rating[i]) count.ratings[c]!++;
  };
  for (let i = 0; i < table.rows; i++) {
    for (let g = 0; g < groupings.length; g++) {
      const c = groupings[g]![i]!;
      if (c >= 0) countRow(c, i);
    }
  }
  // One buffer per kind of value, cut into a view per cell: a few large allocations instead of four per cell.
  const views = (counts: Int32Array) => {
    const buffer = new Float64Array(counts.reduce((sum, n) => sum + n, 0));
    let start = 0;
    return Array.from(counts, (n) => buffer.subarray(start, (start += n)));
  };
  const [jobCosts, successfulCosts, latencies, ratings] = [views(count.jobs), views(count.completed), views(count.latencies), views(count.ratings)];
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
    jobCosts: jobCosts[c]!,
    successfulCosts: successfulCosts[c]!,
    sortedLatencies: latencies[c]!,
    ratings: ratings[c]!,
  }));
  // Second pass: each value goes to its cell's next free slot.
  const next = counters(cells);
  const fillRow = (c: number, i: number) => {
    const s = samples[c]!;
    s.jobCosts[next.jobs[c]!++] = cost[i]!;
    if (status[i] !== STATUS.completed) return;
    s.successfulCosts[next.completed[c]!++] = cost[i]!;
    if (latency[i] === latency[i]) s.sortedLatencies[next.latencies[c]!++] = latency[i]!;
    if (rating[i] === rating[i]) s.ratings[next.ratings[c]!++] = rating[i]!;
  };
  for (let i = 0; i < table.rows; i++) {
    for (let g = 0; g < groupings.length; g++) {
      const c = groupings[g]![i]!;
      if (c >= 0) fillRow(c, i);
    }
  }
  for (const s of samples) s.sortedLatencies.sort();
  if (countUnits) countDistinctUnits(table, samples, groupings);
  return samples;
}

function countDistinctUnits(table: RowTable, samples: ArmSample[], groupings: readonly Int32Array[]): void {
  const seen = samples.map(() => new Uint8Array(table.units));
  for (const grouping of groupings) {
    for (let i = 0; i < table.rows; i++) {
      const c = grouping[i]!;
      if (c < 0 || seen[c]![table.unit[i]!]) continue;
      seen[c]![table.unit[i]!] = 1;
      samples[c]!.units++;
    }
  }
}

/** Each variant's sample (holdout and unassigned rows left out), with distinct units, by arm index. */
export function variantSamples(table: RowTable): ArmSample[] {
  const variants = table.variants.length;
  const cellOfRow = table.arm.map((arm) => (arm < variants ? arm : -1));
  return cellSamples(table, variants, [cellOfRow], true);
}
