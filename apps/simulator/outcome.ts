/**
 * What happens to one provider request, decided from the knobs and a random source. Pure.
 */
import type { ProviderKnobs } from './knobs.ts';
import { sampleLatencyMs } from './latency.ts';
import { chance, pick, type Rng } from './random.ts';

/** The fate of one request; `delayMs` is how long to wait before answering. */
export type Outcome =
  | { kind: 'down' }
  | { kind: 'hang' }
  | { kind: 'error'; status: number; delayMs: number }
  | { kind: 'malformed'; variant: 0 | 1; delayMs: number }
  | { kind: 'ok'; delayMs: number };

/**
 * Draws in a fixed order (hang, error, malformed, latency) so a seed replays the same sequence.
 * Rates are exclusive in that order: with hang_rate 0.1 and error_rate 0.1, 9% of requests error.
 */
export function decideOutcome(knobs: ProviderKnobs, rng: Rng): Outcome {
  if (knobs.down) return { kind: 'down' };
  if (chance(rng, knobs.hang_rate)) return { kind: 'hang' };
  if (chance(rng, knobs.error_rate)) {
    const status = pick(rng, knobs.error_statuses);
    return { kind: 'error', status, delayMs: sampleLatencyMs(knobs.latency, rng) };
  }
  if (chance(rng, knobs.malformed_rate)) {
    const variant = rng() < 0.5 ? 0 : 1;
    return { kind: 'malformed', variant, delayMs: sampleLatencyMs(knobs.latency, rng) };
  }
  return { kind: 'ok', delayMs: sampleLatencyMs(knobs.latency, rng) };
}
