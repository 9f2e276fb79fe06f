import { createHash } from 'node:crypto';
import type { Experiment, Variant } from '../config/types.ts';

/**
 * A number in [0, 1) fixed by experiment salt and unit id: the same user always lands in the
 * same bucket, and different salts assign independently.
 */
export function bucketOf(salt: string, unitId: string): number {
  const digest = createHash('sha256').update(`${salt}:${unitId}`).digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}

/** Index in `experiment.overrides` of the first override whose every field matches `category`, or -1 for none. */
export function matchingOverrideIndex(experiment: Pick<Experiment, 'overrides'>, category: Record<string, string>): number {
  return experiment.overrides.findIndex((o) => Object.entries(o.match).every(([k, v]) => category[k] === v));
}

/** Variant weights for a request, after the first category override that matches it. */
export function effectiveWeights(experiment: Experiment, category: Record<string, string>): Map<string, number> {
  const weights = new Map(experiment.variants.map((v) => [v.name, v.weight]));
  const override = experiment.overrides[matchingOverrideIndex(experiment, category)];
  if (override) for (const [name, w] of Object.entries(override.weights)) if (weights.has(name)) weights.set(name, w);
  return weights;
}

/** Picks the variant whose cumulative weight range holds `bucket` (0 <= bucket < 1). */
export function pickWeighted(variants: Variant[], weights: Map<string, number>, bucket: number): Variant {
  const total = variants.reduce((sum, v) => sum + (weights.get(v.name) ?? 0), 0);
  const first = variants[0];
  if (!first) throw new Error('experiment has no variants');
  if (total <= 0) return first;
  let edge = 0;
  for (const v of variants) {
    edge += (weights.get(v.name) ?? 0) / total;
    if (bucket < edge) return v;
  }
  return variants.at(-1) ?? first;
}

/** Why a request got its variant: only `assigned` requests take part in the experiment's comparison. */
export type AssignmentReason = 'assigned' | 'paused' | 'not_started' | 'ended' | 'holdout';

/** The variant a request is served by, and whether it counts as one of the experiment's units. */
export interface Assignment {
  variant: Variant;
  reason: AssignmentReason;
  /** True only for `assigned`: every other request gets the control and stays out of the report. */
  inExperiment: boolean;
}

/** The control: the first variant, what requests outside the experiment are served by. */
export function controlOf(experiment: Experiment): Variant {
  const first = experiment.variants[0];
  if (!first) throw new Error('experiment has no variants');
  return first;
}

/**
 * Whether `at` falls outside the experiment's schedule: before `starts_at` (inclusive start) or at
 * or after `ends_at`; null when inside it (or the experiment has no schedule).
 */
export function outsideSchedule(experiment: Pick<Experiment, 'starts_at' | 'ends_at'>, at: Date): 'not_started' | 'ended' | null {
  if (experiment.starts_at !== undefined && at.getTime() < Date.parse(experiment.starts_at)) return 'not_started';
  if (experiment.ends_at !== undefined && at.getTime() >= Date.parse(experiment.ends_at)) return 'ended';
  return null;
}

/**
 * The assignment of one request made at `at` (its submission time, so a retry is assigned alike):
 * paused or outside the schedule, the control; else a unit whose holdout bucket (hashed apart
 * from the variant bucket, so the split among the others keeps its weights) falls under the
 * holdout share gets the control too; else sticky per unit id, by weight after overrides.
 */
export function assign(experiment: Experiment, unitId: string, category: Record<string, string>, at: Date): Assignment {
  const control = controlOf(experiment);
  if (experiment.status === 'paused') return { variant: control, reason: 'paused', inExperiment: false };
  const outside = outsideSchedule(experiment, at);
  if (outside) return { variant: control, reason: outside, inExperiment: false };
  if ((experiment.holdout ?? 0) > 0 && bucketOf(`${experiment.salt}:holdout`, unitId) < experiment.holdout!) {
    return { variant: control, reason: 'holdout', inExperiment: false };
  }
  const variant = pickWeighted(experiment.variants, effectiveWeights(experiment, category), bucketOf(experiment.salt, unitId));
  return { variant, reason: 'assigned', inExperiment: true };
}

/**
 * The variant for one request: sticky per unit id (a user), by weight; a paused experiment sends
 * everyone to its first variant, and so do the schedule and the holdout when `at` is given.
 */
export function assignVariant(experiment: Experiment, unitId: string, category: Record<string, string> = {}, at?: Date): Variant {
  if (at === undefined && experiment.status === 'running') {
    return pickWeighted(experiment.variants, effectiveWeights(experiment, category), bucketOf(experiment.salt, unitId));
  }
  return assign(experiment, unitId, category, at ?? new Date()).variant;
}
