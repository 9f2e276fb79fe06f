/**
 * Batch API counts, kept apart from the realtime call counts (GET /admin/calls keeps its shape):
 * tests prove from them that a job went through a batch and was never submitted twice.
 */
import { MAX_TRACKED_JOBS, type PerProvider } from './counters.ts';
import type { Provider } from './knobs.ts';

/** The body of GET /admin/calls/batch. */
export interface BatchCallCounts {
  /** Batches created (accepted by the create endpoint), per provider. */
  batches_created: PerProvider;
  /** Items submitted in those batches, per provider. */
  items_submitted: PerProvider;
  /** Times each custom_id was submitted, in any batch of either provider. */
  batch_items_by_job: Record<string, number>;
}

const zero = (): PerProvider => ({ openai: 0, anthropic: 0 });

/** Mutable counters behind GET /admin/calls/batch. */
export class BatchCounters {
  private created = zero();
  private items = zero();
  private readonly byJob = new Map<string, number>();

  /** Records one created batch and its items' custom ids. */
  submitted(provider: Provider, customIds: readonly string[]): void {
    this.created[provider]++;
    this.items[provider] += customIds.length;
    for (const id of customIds) {
      this.byJob.set(id, (this.byJob.get(id) ?? 0) + 1);
      if (this.byJob.size > MAX_TRACKED_JOBS) {
        const oldest = this.byJob.keys().next().value;
        if (oldest !== undefined) this.byJob.delete(oldest);
      }
    }
  }

  /** A copy of the counts. */
  snapshot(): BatchCallCounts {
    return { batches_created: { ...this.created }, items_submitted: { ...this.items }, batch_items_by_job: Object.fromEntries(this.byJob) };
  }

  /** Zeroes every count. */
  reset(): void {
    this.created = zero();
    this.items = zero();
    this.byJob.clear();
  }
}
