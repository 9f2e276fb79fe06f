/**
 * A small seeded pseudo-random generator (mulberry32), so bootstrap intervals and simulations
 * give the same answer on every run and machine; Math.random cannot be seeded.
 */

/** A function returning uniform numbers in [0, 1). */
export type Rng = () => number;

/** A mulberry32 generator from a 32-bit integer seed. @defaultValue seed 1 */
export function seededRng(seed = 1): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
