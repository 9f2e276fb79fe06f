import { describe, expect, test } from 'vitest';
import type { Experiment } from '../config/types.ts';
import type { ExperimentRow } from '../store/types.ts';
import { experimentRow, twoVariantExperiment } from './sampleRows.ts';
import { rowTable } from './rowTable.ts';
import { sampleRatioCheck } from './sampleRatio.ts';

/** `count` units of `variant`, each with `jobsEach` jobs; unit ids are `${prefix}-${i}`. */
function units(variant: string, count: number, overrides: Partial<ExperimentRow> = {}, jobsEach = 1, prefix = `${variant}-${overrides.sector ?? ''}`): ExperimentRow[] {
  return Array.from({ length: count * jobsEach }, (_, i) => experimentRow(variant, { unit: `${prefix}-${Math.floor(i / jobsEach)}`, ...overrides }));
}

function check(rows: ExperimentRow[], experiment: Experiment = twoVariantExperiment()) {
  return sampleRatioCheck(rowTable(rows, experiment.variants.map((v) => v.name)), experiment);
}

describe('sampleRatioCheck', () => {
  test('flags a 60/40 split of 2,000 units under 50/50 weights, and tells what it means', () => {
    const r = check([...units('gpt4', 1200), ...units('claude', 800)]);
    // Chi-square: 2 · 200² / 1000 = 80 on 1 df.
    expect(r).toMatchObject({ test: 'chi_square', counted: 'units', observed: { gpt4: 1200, claude: 800 }, expected: { gpt4: 1000, claude: 1000 }, df: 1, mismatch: true });
    expect(r.statistic).toBeCloseTo(80, 10);
    expect(r.p_value).toBeLessThan(1e-15);
    expect(r.note).toMatch(/do not trust the comparisons/);
    expect(r.note).toMatch(/assignment or logging bugs/);
  });

  test('does not flag a fair split', () => {
    const r = check([...units('gpt4', 1010), ...units('claude', 990)]);
    expect(r.mismatch).toBe(false);
    expect(r.statistic).toBeCloseTo(0.2, 10);
    expect(r.note).toMatch(/split as configured/);
  });

  test('counts units, not jobs: heavy users of one arm are no mismatch', () => {
    const r = check([...units('gpt4', 1000, {}, 1), ...units('claude', 1000, {}, 3)]);
    expect(r).toMatchObject({ observed: { gpt4: 1000, claude: 1000 }, mismatch: false });
  });

  test("units under a category override are expected at the override's weights", () => {
    const experiment = twoVariantExperiment({ overrides: [{ match: { sector: 'healthcare' }, weights: { gpt4: 80, claude: 20 } }] });
    const rows = [...units('gpt4', 800, { sector: 'healthcare' }), ...units('claude', 200, { sector: 'healthcare' }), ...units('gpt4', 500), ...units('claude', 500)];
    const r = check(rows, experiment);
    expect(r).toMatchObject({ expected: { gpt4: 1300, claude: 700 }, df: 2, mismatch: false });
    expect(r.note).toMatch(/overrides' weights \(2 segments\)/);
    // The same counts judged against the default weights alone are a mismatch.
    expect(check(rows).mismatch).toBe(true);
  });

  test('the holdout is one more arm taking its share off the top', () => {
    const experiment = twoVariantExperiment({ holdout: 0.1 });
    const rows = [...units('gpt4', 100, { holdout: true }, 1, 'h'), ...units('gpt4', 450), ...units('claude', 450)];
    const r = check(rows, experiment);
    expect(r).toMatchObject({ observed: { holdout: 100, gpt4: 450, claude: 450 }, expected: { holdout: 100, gpt4: 450, claude: 450 }, df: 2, mismatch: false });
    // Holdout units when none are configured cannot happen by chance.
    expect(check(rows).mismatch).toBe(true);
  });

  test('a unit seen in two arms is counted in each and named in the note', () => {
    const rows = [...units('gpt4', 500, {}, 1, 'u'), ...units('claude', 500, {}, 1, 'v'), experimentRow('claude', { unit: 'u-0' })];
    const r = check(rows);
    expect(r.observed).toEqual({ gpt4: 500, claude: 501 });
    expect(r.note).toMatch(/1 unit\(s\) appear in more than one arm/);
  });

  test('no units: nothing to check, no mismatch', () => {
    expect(check([experimentRow('', { status: 'failed', served_by: null })])).toMatchObject({ statistic: null, p_value: null, mismatch: false, observed: {} });
  });

  test('jobs recorded before categories and held-out units were stored are left out, and the note says so', () => {
    const withHoldout = twoVariantExperiment({ holdout: 0.2 });
    // Held-out units of the old records were never written: counting the old rows would make the
    // holdout arm look starved (a false mismatch).
    const rows = [...units('gpt4', 400), ...units('claude', 400), ...units('gpt4', 200, { holdout: true }, 1, 'held')];
    const old = [...units('gpt4', 900, { assignment_known: false }, 1, 'old-g'), ...units('claude', 900, { assignment_known: false }, 1, 'old-c')];
    const r = check([...rows, ...old], withHoldout);
    expect(r.observed).toEqual({ gpt4: 400, claude: 400, holdout: 200 });
    expect(r.mismatch).toBe(false);
    expect(r.note).toMatch(/1800 job\(s\) recorded before jobs carried their category/);
    expect(check([...rows, ...old.map((row) => ({ ...row, assignment_known: true }))], withHoldout).mismatch).toBe(true);
  });
});
