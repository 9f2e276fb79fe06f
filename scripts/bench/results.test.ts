import { describe, expect, it } from 'vitest';
import { toResults } from './results.ts';
import type { Row } from './stats.ts';

const row = (over: Partial<Row>): Row => ({
  section: 's',
  figure: 'f',
  measured: '-',
  baseline: '-',
  ratio: '-',
  target: '-',
  pass: null,
  name: 'x',
  value: 1,
  unit: 'ms',
  baselineValue: null,
  ...over,
});

describe('toResults', () => {
  it('keeps table order, names, numbers, units and null baselines', () => {
    const rows = [
      row({ name: 'budget_reserve_settle_p99_ms', value: 0.63, unit: 'ms', baselineValue: 0.32 }),
      row({ name: 'intake_ratio', value: 0.83, unit: 'ratio', baselineValue: null }),
      row({ name: 'report_poll_p99_ms', value: 14.5, unit: 'ms', baselineValue: null }),
    ];
    expect(toResults(rows)).toEqual([
      { name: 'budget_reserve_settle_p99_ms', value: 0.63, unit: 'ms', baseline: 0.32 },
      { name: 'intake_ratio', value: 0.83, unit: 'ratio', baseline: null },
      { name: 'report_poll_p99_ms', value: 14.5, unit: 'ms', baseline: null },
    ]);
  });

  it('writes a figure without samples (NaN) as null, not as a number', () => {
    const [result] = toResults([row({ name: 'intake_p99_ms', value: NaN, baselineValue: Infinity })]);
    expect(result).toEqual({ name: 'intake_p99_ms', value: null, unit: 'ms', baseline: null });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('refuses two figures with the same name', () => {
    expect(() => toResults([row({ name: 'intake_ratio' }), row({ name: 'intake_ratio' })])).toThrow(/"intake_ratio"/);
  });
});
