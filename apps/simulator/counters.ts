/**
 * Call counters per provider and per job id, so tests can prove how often a provider was called
 * and that timed-out requests really closed their connections.
 */
import type { Provider } from './knobs.ts';

/** A count per provider. */
export type PerProvider = Record<Provider, number>;

/** The body of GET /admin/calls. */
export interface CallCounts {
  total: PerProvider;
  by_job: Record<string, PerProvider>;
  /** Requests whose client closed the connection before an answer was sent. */
  aborted: PerProvider;
  in_flight: PerProvider;
}

/** Job ids remembered at most; the oldest is dropped first so long benchmarks keep memory flat. */
export const MAX_TRACKED_JOBS = 100_000;

/** Arrival times remembered per provider at most (a ring: the oldest is overwritten first). */
export const MAX_TRACKED_TIMESTAMPS = 100_000;

/** The body of GET /admin/calls/timestamps: arrival times (epoch ms), oldest first, per provider. */
export interface CallTimestamps {
  timestamps: Record<Provider, number[]>;
}

/** Tokens a provider billed for one model: every success answer that was sent, whole. */
export interface BilledUsage {
  calls: number;
  input_tokens: number;
  output_tokens: number;
}

/** The body of GET /admin/calls/billed: billed usage per provider and model, for pricing what was paid. */
export interface CallsBilled {
  billed: Record<Provider, Record<string, BilledUsage>>;
}

/** A fixed-size ring of epoch-ms numbers: appends in O(1), memory flat however long the run. */
class TimestampRing {
  private readonly slots: Float64Array;
  private next = 0;
  private size = 0;
  constructor(capacity: number) {
    this.slots = new Float64Array(capacity);
  }
  push(ms: number): void {
    this.slots[this.next] = ms;
    this.next = (this.next + 1) % this.slots.length;
    if (this.size < this.slots.length) this.size++;
  }
  /** The kept values, oldest first. */
  values(): number[] {
    const start = (this.next - this.size + this.slots.length) % this.slots.length;
    const out = new Array<number>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.slots[(start + i) % this.slots.length]!;
    return out;
  }
}

const zero = (): PerProvider => ({ openai: 0, anthropic: 0 });

/** Mutable counters behind /admin/calls. */
export class CallCounters {
  private total = zero();
  private aborted = zero();
  private inFlight = zero();
  private byJob = new Map<string, PerProvider>();
  private billedUsage: CallsBilled['billed'] = { openai: {}, anthropic: {} };
  private arrivals: Record<Provider, TimestampRing>;
  private readonly timestampCapacity: number;
  private readonly clock: () => number;

  /** `timestampCapacity` arrivals are kept per provider (default MAX_TRACKED_TIMESTAMPS); `clock` answers epoch ms. */
  constructor(options: { timestampCapacity?: number; clock?: () => number } = {}) {
    this.timestampCapacity = options.timestampCapacity ?? MAX_TRACKED_TIMESTAMPS;
    this.clock = options.clock ?? Date.now;
    this.arrivals = this.emptyArrivals();
  }

  private emptyArrivals(): Record<Provider, TimestampRing> {
    return { openai: new TimestampRing(this.timestampCapacity), anthropic: new TimestampRing(this.timestampCapacity) };
  }

  /** Records a request's arrival; `jobId` comes from the `x-gateway-job-id` header. */
  started(provider: Provider, jobId: string | undefined): void {
    this.total[provider]++;
    this.arrivals[provider].push(this.clock());
    this.inFlight[provider]++;
    if (jobId === undefined || jobId === '') return;
    let entry = this.byJob.get(jobId);
    if (!entry) {
      entry = zero();
      this.byJob.set(jobId, entry);
      if (this.byJob.size > MAX_TRACKED_JOBS) {
        const oldest = this.byJob.keys().next().value;
        if (oldest !== undefined) this.byJob.delete(oldest);
      }
    }
    entry[provider]++;
  }

  /** Records the end of a request; `aborted` when the client left before the answer. */
  ended(provider: Provider, aborted: boolean): void {
    this.inFlight[provider] = Math.max(0, this.inFlight[provider] - 1);
    if (aborted) this.aborted[provider]++;
  }

  /** A copy of the counts. */
  snapshot(): CallCounts {
    const byJob: Record<string, PerProvider> = {};
    for (const [id, c] of this.byJob) byJob[id] = { ...c };
    return { total: { ...this.total }, by_job: byJob, aborted: { ...this.aborted }, in_flight: { ...this.inFlight } };
  }

  /** Records a success answer sent in full: the provider bills its tokens, whether or not the client reads it. */
  billed(provider: Provider, model: string, inputTokens: number, outputTokens: number): void {
    const entry = (this.billedUsage[provider][model] ??= { calls: 0, input_tokens: 0, output_tokens: 0 });
    entry.calls++;
    entry.input_tokens += inputTokens;
    entry.output_tokens += outputTokens;
  }

  /** A copy of the billed usage per provider and model. */
  billedSnapshot(): CallsBilled {
    const copy = (m: Record<string, BilledUsage>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { ...v }]));
    return { billed: { openai: copy(this.billedUsage.openai), anthropic: copy(this.billedUsage.anthropic) } };
  }

  /** Arrival times (epoch ms) of the last calls per provider, oldest first: for proving rate limits. */
  timestamps(): CallTimestamps {
    return { timestamps: { openai: this.arrivals.openai.values(), anthropic: this.arrivals.anthropic.values() } };
  }

  /** Zeroes totals, aborts, job counts, billed usage and arrival times; requests still open stay in flight. */
  reset(): void {
    this.total = zero();
    this.arrivals = this.emptyArrivals();
    this.aborted = zero();
    this.byJob.clear();
    this.billedUsage = { openai: {}, anthropic: {} };
  }
}
