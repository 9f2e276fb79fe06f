import { describe, expect, test } from 'vitest';
import { holmAdjust } from '../stats/index.ts';
import { experimentRow as row } from './sampleRows.ts';
import { categoryBreakdowns } from './categories.ts';
import { rowTable } from './rowTable.ts';

const latencies = (variant: string, sector: string, shift: number) => Array.from({ length: 30 }, (_, i) => row(variant, { sector, provider_latency_ms: 100 + i + shift }));

describe('categoryBreakdowns', () => {
  // Sector "energy": claude 300 ms slower throughout. Sector "finance": claude 6 ms slower, raw p = 0.017.
  const rows = [...latencies('gpt4', 'energy', 0), ...latencies('claude', 'energy', 300), ...latencies('gpt4', 'finance', 0), ...latencies('claude', 'finance', 6)];
  const table = rowTable([...rows, row('gpt4', { sector: 'law' })], ['gpt4', 'claude']);
  const [sector, degree, band] = categoryBreakdowns(table, 0, 1, 0.95);

  test('one breakdown per field; values need jobs in both variants', () => {
    expect([sector!.field, degree!.field, band!.field]).toEqual(['sector', 'degree_level', 'experience_band']);
    expect(sector!.rows.map((r) => r.value)).toEqual(['energy', 'finance']);
    expect(sector!.rows[0]!.jobs).toEqual({ gpt4: 30, claude: 30 });
    expect(degree!.rows.map((r) => r.value)).toEqual(['bachelor']);
  });

  test("all p-values of one field are Holm-corrected together; the raw ones are kept; winners follow the corrected ones", () => {
    expect(sector!.correction).toBe('holm');
    const tested = sector!.rows.flatMap((r) => r.tests).filter((t) => t.raw_p_value !== null);
    // Latency, error rate and both costs in each of two sectors (no ratings: no rating p-value).
    expect(tested).toHaveLength(8);
    expect(tested.map((t) => t.p_value)).toEqual(holmAdjust(tested.map((t) => t.raw_p_value!)));
    const [energy, finance] = sector!.rows;
    expect(energy!.winners).toEqual({ provider_latency_ms: 'gpt4' });
    const financeLatency = finance!.tests.find((t) => t.metric === 'provider_latency_ms')!;
    expect(financeLatency.raw_p_value).toBeCloseTo(0.0169, 4);
    // Second smallest of eight p-values: multiplied by seven.
    expect(financeLatency.p_value).toBeCloseTo(7 * financeLatency.raw_p_value!, 12);
    expect(financeLatency.winner).toBeNull();
    expect(financeLatency.note).toMatch(/before the Holm correction only/);
    expect(finance!.winners).toEqual({});
  });

  test('without a second variant every field has no rows', () => {
    expect(categoryBreakdowns(table, 0, undefined, 0.95).map((b) => b.rows)).toEqual([[], [], []]);
  });
});
