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

const zero = (): PerProvider => ({ openai: 0, anthropic: 0 });

/** Mutable counters behind /admin/calls. */
export class CallCounters {
  private total = zero();
  private aborted = zero();
  private inFlight = zero();
  private byJob = new Map<string, PerProvider>();

  /** Records a request's arrival; `jobId` comes from the `x-gateway-job-id` header. */
  started(provider: Provider, jobId: string | undefined): void {
    this.total[provider]++;
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

  /** Zeroes totals, aborts and job counts; requests still open stay in flight. */
  reset(): void {
    this.total = zero();
    this.aborted = zero();
    this.byJob.clear();
  }
}
