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

/** Variant weights for a request, after the first category override that matches it. */
export function effectiveWeights(experiment: Experiment, category: Record<string, string>): Map<string, number> {
  const weights = new Map(experiment.variants.map((v) => [v.name, v.weight]));
  const override = experiment.overrides.find((o) => Object.entries(o.match).every(([k, v]) => category[k] === v));
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

/**
 * The variant for one request: sticky per unit id (a user), by weight; a paused experiment sends
 * everyone to its first variant.
 */
export function assignVariant(experiment: Experiment, unitId: string, category: Record<string, string> = {}): Variant {
  const first = experiment.variants[0];
  if (!first) throw new Error('experiment has no variants');
  if (experiment.status === 'paused') return first;
  return pickWeighted(experiment.variants, effectiveWeights(experiment, category), bucketOf(experiment.salt, unitId));
}
