/**
 * The simulator's mutable state: current knobs, one PRNG per provider, and the call counters.
 */
import { BatchCounters } from './batchCounters.ts';
import { BatchStore } from './batches.ts';
import { CallCounters } from './counters.ts';
import { ReceivedLog } from './received.ts';
import { PROVIDERS, mergeKnobs, type Knobs, type MergeResult, type Provider } from './knobs.ts';
import { createRng, fnv1a, type Rng } from './random.ts';

/** Knobs plus the random sources and counters that go with them. */
export class SimulatorState {
  readonly counters = new CallCounters();
  /** Generation parameters of the last calls, per provider. */
  readonly received = new ReceivedLog();
  /** Batch API counts (apart from the realtime ones). */
  readonly batchCounters = new BatchCounters();
  /** Batches and files of both providers' batch APIs. */
  readonly batches = new BatchStore();
  private current: Knobs;
  private readonly initial: Knobs;
  private rngs: Record<Provider, Rng>;
  private batchRngs: Record<Provider, Rng>;

  constructor(knobs: Knobs) {
    this.initial = knobs;
    this.current = knobs;
    this.rngs = SimulatorState.seedRngs(knobs.seed);
    this.batchRngs = SimulatorState.seedRngs(knobs.seed, ':batch');
  }

  // One stream per provider, so traffic to one does not shift the other's fault sequence.
  private static seedRngs(seed: number, stream = ''): Record<Provider, Rng> {
    const entries = PROVIDERS.map((p) => [p, createRng(seed ^ fnv1a(p + stream))] as const);
    return Object.fromEntries(entries) as Record<Provider, Rng>;
  }

  private reseed(seed: number): void {
    this.rngs = SimulatorState.seedRngs(seed);
    this.batchRngs = SimulatorState.seedRngs(seed, ':batch');
  }

  /** The knobs in force. */
  get knobs(): Knobs {
    return this.current;
  }

  /** The random source of one provider. */
  rng(provider: Provider): Rng {
    return this.rngs[provider];
  }

  /** The random source of one provider's batch items: its own stream, so batches do not shift the realtime faults. */
  batchRng(provider: Provider): Rng {
    return this.batchRngs[provider];
  }

  /** Validates and merges a patch; a patch that names `seed` restarts both random sequences. */
  setKnobs(patch: unknown): MergeResult {
    const result = mergeKnobs(this.current, patch);
    if (!result.ok) return result;
    this.current = result.knobs;
    if (typeof patch === 'object' && patch !== null && 'seed' in patch) this.reseed(result.knobs.seed);
    return result;
  }

  /** Counts one batch against `expire_next`: true when this batch is to expire (the knob then drops by one). */
  takeExpiry(provider: Provider): boolean {
    const knobs = this.current[provider];
    if (knobs.batch.expire_next <= 0) return false;
    this.current = { ...this.current, [provider]: { ...knobs, batch: { ...knobs.batch, expire_next: knobs.batch.expire_next - 1 } } };
    return true;
  }

  /** Zeroes the counters, forgets received calls and batches; with `knobs` also restores the knobs given at start and reseeds. */
  reset(options: { knobs?: boolean } = {}): void {
    this.counters.reset();
    this.received.reset();
    this.batchCounters.reset();
    this.batches.reset();
    if (options.knobs) {
      this.current = this.initial;
      this.reseed(this.initial.seed);
    }
  }
}
