/**
 * The comparison of two variants within each value of each category field (sector, degree level,
 * experience band). Testing twenty sectors at 0.05 each would crown a winner somewhere by chance,
 * so the p-values of all tests of one field are corrected together with Holm's method, and
 * winners are read from the corrected values (the raw ones are kept beside them).
 */
import { holmAdjust } from '../stats/index.ts';
import { cellSamples, type ArmSample } from './armSample.ts';
import { CATEGORY_FIELDS, type CategoryField, type RowTable } from './rowTable.ts';
import { metricTests, orderStatisticMedian, winnerOf, type ComparedArm } from './metricTests.ts';
import type { CategoryBreakdown, CategoryRow, MetricTest } from './reportTypes.ts';

/** A sample as one side of a per-category comparison; the median interval is by order statistics (a bootstrap per value would be too slow). */
function comparedArm(name: string, sample: ArmSample, confidence: number): ComparedArm {
  return { name, sample, medianLatency: orderStatisticMedian(sample.sortedLatencies, confidence) };
}

/** Replaces each test's p-value by its Holm-corrected one (keeping the raw one) and re-reads winners. */
function correctWithHolm(rows: CategoryRow[], a: string, b: string): void {
  const tested: MetricTest[] = rows.flatMap((row) => row.tests.filter((t) => t.p_value !== null));
  const adjusted = holmAdjust(tested.map((t) => t.p_value!));
  tested.forEach((test, i) => {
    const raw = test.p_value;
    const rawWinner = test.winner;
    test.raw_p_value = raw;
    test.p_value = adjusted[i]!;
    test.winner = winnerOf(test, test.p_value, a, b);
    if (rawWinner !== null && test.winner === null) {
      test.additional_needed = null;
      test.note = [test.note, 'Significant before the Holm correction only: treat as a lead to confirm, not a finding.'].filter(Boolean).join(' ');
    }
  });
  for (const test of rows.flatMap((row) => row.tests)) test.raw_p_value ??= null;
  for (const row of rows) row.winners = Object.fromEntries(row.tests.flatMap((t) => (t.winner === null ? [] : [[t.metric, t.winner]])));
}

/** One field's breakdown from its cells (2·value for a, 2·value + 1 for b): values with jobs in both, by name, Holm-corrected together. */
function breakdown(field: CategoryField, names: readonly string[], samples: readonly ArmSample[], nameA: string, nameB: string, confidence: number): CategoryBreakdown {
  const rows: CategoryRow[] = [];
  const byName = names.map((value, v) => ({ value, v })).sort((x, y) => (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  for (const { value, v } of byName) {
    const sa = samples[2 * v]!;
    const sb = samples[2 * v + 1]!;
    if (sa.jobs === 0 || sb.jobs === 0) continue;
    const tests = metricTests(comparedArm(nameA, sa, confidence), comparedArm(nameB, sb, confidence), confidence);
    rows.push({ value, jobs: { [nameA]: sa.jobs, [nameB]: sb.jobs }, tests, winners: {} });
  }
  correctWithHolm(rows, nameA, nameB);
  return { field, correction: 'holm', rows };
}

/** Per-category comparisons of the variants at arm indices `a` and `b`; no rows without a second variant. */
export function categoryBreakdowns(table: RowTable, a: number, b: number | undefined, confidence: number): CategoryBreakdown[] {
  if (b === undefined) return CATEGORY_FIELDS.map((field) => ({ field, correction: 'holm', rows: [] }));
  // Every field's cells in one numbering (field after field, two per value), so one pass fills all.
  const offsets: number[] = [];
  let cells = 0;
  const groupings = CATEGORY_FIELDS.map((field) => {
    const { names, index } = table.categories[field];
    const offset = cells;
    offsets.push(offset);
    cells += 2 * names.length;
    const grouping = new Int32Array(table.rows);
    for (let i = 0; i < table.rows; i++) {
      const arm = table.arm[i];
      grouping[i] = arm === a ? offset + 2 * index[i]! : arm === b ? offset + 2 * index[i]! + 1 : -1;
    }
    return grouping;
  });
  const samples = cellSamples(table, cells, groupings);
  return CATEGORY_FIELDS.map((field, f) => {
    const names = table.categories[field].names;
    return breakdown(field, names, samples.slice(offsets[f], offsets[f]! + 2 * names.length), table.variants[a]!, table.variants[b]!, confidence);
  });
}
