/**
 * The simulator's mutable state: current knobs, one PRNG per provider, and the call counters.
 */
import { CallCounters } from './counters.ts';
import { ReceivedLog } from './received.ts';
import { PROVIDERS, mergeKnobs, type Knobs, type MergeResult, type Provider } from './knobs.ts';
import { createRng, fnv1a, type Rng } from './random.ts';

/** Knobs plus the random sources and counters that go with them. */
export class SimulatorState {
  readonly counters = new CallCounters();
  /** Generation parameters of the last calls, per provider. */
  readonly received = new ReceivedLog();
  private current: Knobs;
  private readonly initial: Knobs;
  private rngs: Record<Provider, Rng>;

  constructor(knobs: Knobs) {
    this.initial = knobs;
    this.current = knobs;
    this.rngs = SimulatorState.seedRngs(knobs.seed);
  }

  // One stream per provider, so traffic to one does not shift the other's fault sequence.
  private static seedRngs(seed: number): Record<Provider, Rng> {
    const entries = PROVIDERS.map((p) => [p, createRng(seed ^ fnv1a(p))] as const);
    return Object.fromEntries(entries) as Record<Provider, Rng>;
  }

  /** The knobs in force. */
  get knobs(): Knobs {
    return this.current;
  }

  /** The random source of one provider. */
  rng(provider: Provider): Rng {
    return this.rngs[provider];
  }

  /** Validates and merges a patch; a patch that names `seed` restarts both random sequences. */
  setKnobs(patch: unknown): MergeResult {
    const result = mergeKnobs(this.current, patch);
    if (!result.ok) return result;
    this.current = result.knobs;
    if (typeof patch === 'object' && patch !== null && 'seed' in patch) this.rngs = SimulatorState.seedRngs(result.knobs.seed);
    return result;
  }

  /** Zeroes the counters and forgets received calls; with `knobs` also restores the knobs given at start and reseeds. */
  reset(options: { knobs?: boolean } = {}): void {
    this.counters.reset();
    this.received.reset();
    if (options.knobs) {
      this.current = this.initial;
      this.rngs = SimulatorState.seedRngs(this.initial.seed);
    }
  }
}
