/** The bench's figures as `bench/results.json`, for tools that compare runs. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FigureUnit, Row } from './stats.ts';

/** One figure of `bench/results.json`. `value`/`baseline` are null when the run produced no number (no samples). */
export interface BenchResult {
  name: string;
  value: number | null;
  unit: FigureUnit;
  baseline: number | null;
}

// JSON has no NaN: a figure without samples is written as null rather than silently as 0.
const finiteOrNull = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

/** The rows' figures in table order; throws when two rows share a name, since names identify figures across runs. */
export function toResults(rows: readonly Row[]): BenchResult[] {
  const seen = new Set<string>();
  return rows.map((r) => {
    if (seen.has(r.name)) throw new Error(`two bench figures are named "${r.name}": names must be unique`);
    seen.add(r.name);
    return { name: r.name, value: finiteOrNull(r.value), unit: r.unit, baseline: finiteOrNull(r.baselineValue) };
  });
}

/** Writes the rows' figures to `path` as a pretty JSON array, creating its folder. */
export async function writeResults(path: string, rows: readonly Row[]): Promise<void> {
  const json = `${JSON.stringify(toResults(rows), null, 2)}\n`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, json);
}
