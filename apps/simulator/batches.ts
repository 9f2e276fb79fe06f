/**
 * The simulator's batches: what each item answers (decided once, at creation, like the realtime
 * endpoints decide theirs) and the lifecycle a batch goes through, computed from the clock. No I/O.
 */
import { randomUUID } from 'node:crypto';
import { careerPlan } from './careerPlan.ts';
import type { BatchKnobs, Provider } from './knobs.ts';
import { chance, type Rng } from './random.ts';
import { parseRequest, successReply } from './wire.ts';

/** What one item of a batch answers once its batch ends. */
export type ItemAnswer =
  | { kind: 'succeeded'; body: Record<string, unknown>; model: string; inputTokens: number; outputTokens: number }
  | { kind: 'errored'; status: number; message: string };

/** One request of a batch, with its answer. */
export interface SimBatchItem {
  customId: string;
  answer: ItemAnswer;
}

/** A batch as the simulator keeps it; the wire shapes are built from it in batchWire.ts. */
export interface SimBatch {
  id: string;
  provider: Provider;
  /** Creation, epoch ms. */
  createdAt: number;
  /** When the batch ends (completes, or expires when `expires`), epoch ms. */
  endsAt: number;
  /** Ends as expired: no item is answered. */
  expires: boolean;
  items: SimBatchItem[];
  /** OpenAI: the metadata given at creation; null for Anthropic. */
  metadata: Record<string, string> | null;
  /** OpenAI: the uploaded input file; null for Anthropic. */
  inputFileId: string | null;
  /** OpenAI: why the input file was refused; the batch is then `failed` at once. */
  failure: { code: string; message: string; line: number | null }[] | null;
  /** When a cancel was asked for, epoch ms; the batch ends cancelled unless it had ended already. */
  cancelledAt: number | null;
  /** OpenAI: output and error files, made when the batch is first seen ended. */
  outputFileId: string | null;
  errorFileId: string | null;
  /** OpenAI: true once the output and error files were made. */
  settled: boolean;
}

/** Where a batch is in its life at some moment. */
export type BatchPhase = 'in_progress' | 'completed' | 'expired' | 'cancelled' | 'failed';

/** The phase of `batch` at `now` (epoch ms). */
export function phaseOf(batch: SimBatch, now: number): BatchPhase {
  if (batch.failure) return 'failed';
  if (batch.cancelledAt !== null && batch.cancelledAt < batch.endsAt) return 'cancelled';
  if (now < batch.endsAt) return 'in_progress';
  return batch.expires ? 'expired' : 'completed';
}

/** When the batch stopped changing (epoch ms), or null while it runs. */
export function endedAt(batch: SimBatch, now: number): number | null {
  const phase = phaseOf(batch, now);
  if (phase === 'in_progress') return null;
  if (phase === 'failed') return batch.createdAt;
  if (phase === 'cancelled') return batch.cancelledAt;
  return batch.endsAt;
}

/**
 * The answer to one item's request body (the provider's format), made exactly as the realtime
 * endpoint makes it: same validation, same text, same token counts. `item_error_rate` draws one
 * number per valid item, in item order, so a seed replays the same errors.
 */
export function answerItem(provider: Provider, body: unknown, knobs: BatchKnobs, rng: Rng): ItemAnswer {
  const parsed = parseRequest(provider, JSON.stringify(body ?? null));
  if (!parsed.ok) return { kind: 'errored', status: 400, message: parsed.message };
  if (chance(rng, knobs.item_error_rate)) return { kind: 'errored', status: 500, message: 'The server had an error while processing your request (simulated).' };
  const reply = successReply(provider, parsed.request, careerPlan(parsed.request.prompt));
  return { kind: 'succeeded', body: JSON.parse(reply.body) as Record<string, unknown>, model: parsed.request.model, ...reply.usage };
}

/** Batches kept at most (the oldest is dropped first, with its files), so long runs keep memory flat. @defaultValue 10000 */
export const MAX_BATCHES = 10_000;

/** An uploaded or produced file (OpenAI Files API). */
export interface SimFile {
  id: string;
  filename: string;
  purpose: string;
  /** Creation, epoch ms. */
  createdAt: number;
  content: string;
}

const compactId = (): string => randomUUID().replaceAll('-', '');

/** The batches and files of both providers, in creation order. */
export class BatchStore {
  private readonly batches = new Map<string, SimBatch>();
  private readonly files = new Map<string, SimFile>();

  /** A new batch id in the provider's style. */
  static batchId(provider: Provider): string {
    return provider === 'openai' ? `batch_${compactId()}` : `msgbatch_${compactId()}`;
  }

  /** Stores a file and returns it. */
  addFile(file: Omit<SimFile, 'id'>): SimFile {
    const stored = { id: `file-${compactId()}`, ...file };
    this.files.set(stored.id, stored);
    return stored;
  }

  /** A file by id, if kept. */
  file(id: string): SimFile | undefined {
    return this.files.get(id);
  }

  /** Stores a new batch, dropping the oldest one past MAX_BATCHES. */
  add(batch: SimBatch): void {
    this.batches.set(batch.id, batch);
    if (this.batches.size <= MAX_BATCHES) return;
    const oldest = this.batches.values().next().value;
    if (!oldest) return;
    this.batches.delete(oldest.id);
    for (const id of [oldest.inputFileId, oldest.outputFileId, oldest.errorFileId]) if (id) this.files.delete(id);
  }

  /** The provider's batch with this id, if kept. */
  get(provider: Provider, id: string): SimBatch | undefined {
    const batch = this.batches.get(id);
    return batch?.provider === provider ? batch : undefined;
  }

  /** The provider's batches, newest first. */
  list(provider: Provider): SimBatch[] {
    return [...this.batches.values()].filter((b) => b.provider === provider).reverse();
  }

  /** Forgets every batch and file. */
  reset(): void {
    this.batches.clear();
    this.files.clear();
  }
}

/** One page of a newest-first list: `limit` items after the one with id `after` (exclusive). */
export function pageOf<T extends { id: string }>(items: T[], limit: number, after: string | undefined): { data: T[]; hasMore: boolean } {
  const start = after === undefined ? 0 : items.findIndex((i) => i.id === after) + 1;
  // An unknown cursor yields an empty page rather than the first page again (no endless loop).
  if (after !== undefined && start === 0) return { data: [], hasMore: false };
  const data = items.slice(start, start + limit);
  return { data, hasMore: start + limit < items.length };
}
