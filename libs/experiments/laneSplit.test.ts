import { describe, expect, it } from 'vitest';
import { LANE_MIX_NOTE_POINTS, laneSplit, variantLanes } from './laneSplit.ts';

const lanes = (variant: string, realtime: [number, number], batch: [number, number]) =>
  variantLanes(variant, { jobs: realtime[0], micros: realtime[1] }, { jobs: batch[0], micros: batch[1] });

describe('variantLanes', () => {
  it('gives each lane its jobs, spend and mean cost per job, and the batch share', () => {
    expect(lanes('gpt4', [3, 90_000], [1, 15_000])).toEqual({
      variant: 'gpt4',
      realtime: { jobs: 3, usd: 0.09, per_job_usd: 0.03 },
      batch: { jobs: 1, usd: 0.015, per_job_usd: 0.015 },
      batch_share: 0.25,
    });
  });

  it('answers null means and share without jobs', () => {
    expect(lanes('claude', [0, 0], [0, 0])).toEqual({
      variant: 'claude',
      realtime: { jobs: 0, usd: 0, per_job_usd: null },
      batch: { jobs: 0, usd: 0, per_job_usd: null },
      batch_share: null,
    });
  });
});

describe('laneSplit', () => {
  it(`says nothing while the batch shares differ by at most ${LANE_MIX_NOTE_POINTS} points`, () => {
    const r = laneSplit([lanes('gpt4', [55, 0], [45, 0]), lanes('claude', [45, 0], [55, 0])]);
    expect(r.batch_share_spread).toBeCloseTo(0.1, 12);
    expect(r.note).toBeNull();
  });

  it('names the shares and points at the per-lane cost when they differ by more', () => {
    const r = laneSplit([lanes('gpt4', [90, 0], [10, 0]), lanes('claude', [40, 0], [60, 0]), lanes('mistral', [0, 0], [0, 0])]);
    expect(r.batch_share_spread).toBeCloseTo(0.5, 12);
    expect(r.note).toMatch(/differ by 50\.0 points \(gpt4 10\.0%, claude 60\.0%\)/);
    expect(r.note).toMatch(/each lane's cost per job/);
  });

  it('has no spread with fewer than two variants with jobs', () => {
    expect(laneSplit([lanes('gpt4', [1, 0], [9, 0]), lanes('claude', [0, 0], [0, 0])])).toMatchObject({ batch_share_spread: null, note: null });
  });
});
