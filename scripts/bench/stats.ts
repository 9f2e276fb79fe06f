/** Percentiles and number formatting for the benchmark report. */

/** Latency summary in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `samples` (milliseconds); all NaN when there are none. */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[n - 1]!, mean: sum / n };
}

/** `1.23 ms` (3 significant digits below 10). */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return `${v < 10 ? v.toFixed(v < 1 ? 3 : 2) : v.toFixed(1)} ms`;
}

/** `12,345/s`. */
export function rate(v: number, unit = '/s'): string {
  if (!Number.isFinite(v)) return 'n/a';
  return `${Math.round(v).toLocaleString('en-US')}${unit}`;
}

/** `a / b`, NaN when either is not finite or `b` is 0. */
export function ratioValue(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** `0.62x`. */
export function ratio(a: number, b: number): string {
  const r = ratioValue(a, b);
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a';
}

/** Unit of a figure in `bench/results.json`; `count` is a number of things per job or request (commands, round trips, calls). */
export type FigureUnit = 'ratio' | 'ms' | 'req/s' | 'MB' | '%' | 'count';

/**
 * One line of the final table. `pass` is null for figures without a target. `name`, `value`, `unit`
 * and `baselineValue` are the same figure for machines (`bench/results.json`): `name` is stable
 * snake_case, `baselineValue` is the same-run baseline in `unit`, null when the figure has none
 * (a ratio already contains its baseline).
 */
export interface Row {
  section: string;
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  pass: boolean | null;
  name: string;
  value: number;
  unit: FigureUnit;
  baselineValue: number | null;
}

/** The final table, aligned, with PASS/FAIL in the last column. */
export function formatTable(rows: Row[]): string {
  const header = ['section', 'figure', 'measured', 'baseline (same run)', 'ratio', 'target', 'result'];
  const cells = rows.map((r) => [r.section, r.figure, r.measured, r.baseline, r.ratio, r.target, r.pass === null ? '-' : r.pass ? 'PASS' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
