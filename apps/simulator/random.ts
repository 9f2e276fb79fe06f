/**
 * A small seedable PRNG so that fault injection and latency are reproducible in tests.
 */

import { seededRng, type Rng } from '../../libs/stats/rng.ts';

export type { Rng };

/** mulberry32 (the statistics library's generator): fast, 32-bit state, good enough for simulation (not for anything secret). */
export const createRng = (seed: number): Rng => seededRng(seed);

/** True with probability `rate`; exact at 0 (never) and 1 (always) because rng() is in [0, 1). */
export function chance(rng: Rng, rate: number): boolean {
  return rng() < rate;
}

/** One element chosen uniformly; the list must not be empty. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** 32-bit FNV-1a hash of a string: stable across runs and processes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
