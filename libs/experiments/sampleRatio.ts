/**
 * The sample-ratio-mismatch check of the report: are the experiment's units (users) split among
 * the arms as configured? Units, not jobs, are counted because assignment is sticky per unit: a
 * few heavy users would make job counts drift from the weights without anything being wrong.
 *
 * Units whose requests match a category override were split by that override's weights, so they
 * form a segment of their own (the first matching override, as assignment picks it); with a
 * holdout, the holdout is one more arm taking its share off the top.
 */
import type { Experiment } from '../config/types.ts';
import { formatP, sampleRatioMismatch, sharesFromWeights, SRM_ALPHA, type SrmSegment } from '../stats/index.ts';
import { effectiveWeights, matchingOverrideIndex } from './assign.ts';
import type { SampleRatioCheck } from './reportTypes.ts';
import { UNASSIGNED, type RowTable } from './rowTable.ts';

/** The arm holdout units are counted in. */
export const HOLDOUT_ARM = 'holdout';

interface SegmentCount {
  /** A category of the segment: every row of it gets the same weights. */
  category: Record<string, string>;
  /** Distinct units per arm index. */
  units: Map<number, number>;
}

/** Distinct units per segment (override index, -1 for the default weights) and arm; units seen in more than one arm. */
function countUnits(table: RowTable, experiment: Experiment): { segments: Map<number, SegmentCount>; inSeveralArms: number; unknownRows: number } {
  const { sector, degree_level, experience_band } = table.categories;
  const categoryOf = (i: number) => ({ sector: sector.names[sector.index[i]!]!, degree_level: degree_level.names[degree_level.index[i]!]!, experience_band: experience_band.names[experience_band.index[i]!]! });
  const segmentOfCategory = new Map<number, number>();
  const segments = new Map<number, SegmentCount>();
  const arms = table.holdoutArm + 1;
  const seen = new Map<number, Uint8Array>();
  const firstArm = new Int32Array(table.units).fill(-1);
  const severalArms = new Uint8Array(table.units);
  let inSeveralArms = 0;
  let unknownRows = 0;
  for (let i = 0; i < table.rows; i++) {
    const arm = table.arm[i]!;
    if (arm === UNASSIGNED) continue;
    // Older records lack the category (so the segment) and never name held-out units.
    if (!table.assignmentKnown[i]) {
      unknownRows++;
      continue;
    }
    const key = (sector.index[i]! * degree_level.names.length + degree_level.index[i]!) * experience_band.names.length + experience_band.index[i]!;
    let segment = segmentOfCategory.get(key);
    if (segment === undefined) {
      segmentOfCategory.set(key, (segment = matchingOverrideIndex(experiment, categoryOf(i))));
      if (!segments.has(segment)) segments.set(segment, { category: categoryOf(i), units: new Map() });
    }
    const unit = table.unit[i]!;
    const pair = (segment + 1) * arms + arm;
    let bitmap = seen.get(pair);
    if (!bitmap) seen.set(pair, (bitmap = new Uint8Array(table.units)));
    if (!bitmap[unit]) {
      bitmap[unit] = 1;
      const units = segments.get(segment)!.units;
      units.set(arm, (units.get(arm) ?? 0) + 1);
    }
    if (firstArm[unit] === -1) firstArm[unit] = arm;
    else if (firstArm[unit] !== arm && !severalArms[unit]) {
      severalArms[unit] = 1;
      inSeveralArms++;
    }
  }
  return { segments, inSeveralArms, unknownRows };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The check over the rows of the report's window (holdout rows included, unassigned ones not). */
export function sampleRatioCheck(table: RowTable, experiment: Experiment): SampleRatioCheck {
  const { segments, inSeveralArms, unknownRows } = countUnits(table, experiment);
  const older =
    unknownRows > 0
      ? ` ${unknownRows} job(s) recorded before jobs carried their category and held-out units are left out of this check (their segment and holdout are unknown); a window starting after the upgrade checks every job.`
      : '';
  const holdout = experiment.holdout ?? 0;
  const armName = (arm: number) => (arm === table.holdoutArm ? HOLDOUT_ARM : table.variants[arm]!);
  const srmSegments: SrmSegment[] = [...segments.values()].map((segment) => ({
    observed: Object.fromEntries([...segment.units].map(([arm, units]) => [armName(arm), units])),
    shares: sharesFromWeights(Object.fromEntries(effectiveWeights(experiment, segment.category)), holdout, HOLDOUT_ARM),
  }));
  const base = { test: 'chi_square', counted: 'units', alpha: SRM_ALPHA } as const;
  if (srmSegments.length === 0) {
    return { ...base, observed: {}, expected: {}, statistic: null, df: null, p_value: null, mismatch: false, note: `No units in the window yet: nothing to check.${older}` };
  }
  const r = sampleRatioMismatch(srmSegments);
  const severalArms =
    inSeveralArms > 0
      ? ` ${inSeveralArms} unit(s) appear in more than one arm and are counted in each: expected only when weights, overrides or the holdout changed during the window, or a user's requests fall in differently weighted categories; otherwise assignment is not sticky.`
      : '';
  const overrides = srmSegments.length > 1 ? ` Units under category overrides are expected at the overrides' weights (${srmSegments.length} segments).` : '';
  const verdict = r.mismatch
    ? `Sample-ratio mismatch (${formatP(r.pValue)}, alpha ${SRM_ALPHA}): units are not split as configured, so do not trust the comparisons until the cause is found. Look for assignment or logging bugs: one arm's jobs missing from the store, a changed salt or weights, units counted twice, or an arm that should receive nobody.`
    : `Units are split as configured (${formatP(r.pValue)}, mismatch flagged below ${SRM_ALPHA}): no sign of an assignment or logging problem.`;
  return {
    ...base,
    observed: r.observed,
    expected: Object.fromEntries(Object.entries(r.expected).map(([arm, e]) => [arm, round2(e)])),
    statistic: r.statistic,
    df: r.df,
    p_value: r.pValue,
    mismatch: r.mismatch,
    note: verdict + overrides + severalArms + older,
  };
}
