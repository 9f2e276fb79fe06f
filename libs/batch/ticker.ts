/**
 * One tick of the batch lane, run by one worker at a time (a BullMQ job scheduler, see
 * scheduler.ts): send the batches that were claimed but not sent, look at the ones out with a
 * provider and collect those that ended, then claim and send the groups that are due.
 *
 * Crash safety. A batch is claimed (its items leave the line atomically), then frozen by exactly
 * one tick (claimed → sending), which sends it under our id, which the provider keeps (OpenAI
 * metadata; Anthropic custom ids). A batch a later tick finds still `sending` is looked up at the
 * provider once that send's time is surely up, and sent only if it is not there, so no crash or
 * slow tick sends it twice. Collecting keeps every item's outcome first, then settles each hold
 * (idempotent per hold id), wakes the jobs (idempotent) and only then closes the batch: a crash
 * anywhere in between is redone by the next tick without paying or counting anything twice.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';
import { BudgetHold } from '../budget/hold.ts';
import { batchPrice, costMicros, priceAt } from '../budget/cost.ts';
import { BatchProviderError, type BatchItemOutcome, type BatchItemRequest, type BatchProviderClient } from '../providers/batch/types.ts';
import { customIdOf, flushDue, type ItemOutcome } from './lane.ts';
import type { BatchRecord, BatchStore, BatchTicket } from './batchStore.ts';

/** What a tick needs from its process. */
export interface LaneTickDeps {
  store: BatchStore;
  /** The batch client of a provider, or undefined when it has none. */
  client: (provider: string) => BatchProviderClient | undefined;
  config: () => GatewayConfig;
  budget: BudgetStore;
  /** Wakes a job waiting (delayed) on its batch; must not throw for a job that is gone or running. */
  wake: (jobId: string) => Promise<void>;
  log: Logger;
  /** Whether a provider's shared breaker is open now: nothing is sent to it meanwhile. @defaultValue never */
  breakerOpen?: (provider: string) => Promise<boolean>;
  /** Epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** Runs before each batch is sent or collected (the scheduler renews its lease there); a throw ends the tick. @defaultValue none */
  beforeEach?: () => Promise<void>;
}

/** What one tick did, for logs and tests. */
export interface TickReport {
  sent: number;
  collected: number;
  items: number;
}

/** Milliseconds one send may take (upload and create) before it is abandoned; well under the tick's lease. @defaultValue 60000 */
export const SUBMIT_TIMEOUT_MS = 60_000;

/**
 * Milliseconds after a batch was frozen before a later tick asks the provider whether it has it: a
 * send abandoned on our side may still complete at the provider a moment later. @defaultValue 6 minutes
 */
export const FIND_AFTER_MS = SUBMIT_TIMEOUT_MS + 5 * 60_000;

/** The lane's flush settings while provider_settings.json has no `batch`: what is in line still goes out. */
const FALLBACK_FLUSH = { max_items: 1000, max_age_ms: 60_000 };

/** Runs one tick (see the module comment). */
export async function runLaneTick(deps: LaneTickDeps): Promise<TickReport> {
  // Disabling the lane stops new jobs from joining it; those in line still go out and come back.
  const flushing = deps.config().providers.batch ?? FALLBACK_FLUSH;
  const now = deps.now ?? Date.now;
  const report: TickReport = { sent: 0, collected: 0, items: 0 };
  for (const batch of await deps.store.openBatches()) {
    await deps.beforeEach?.();
    try {
      if (batch.state === 'claimed' || batch.state === 'sending') await send(deps, batch, report);
      else if (batch.state === 'sent') await collectIfEnded(deps, batch, report);
    } catch (err) {
      deps.log.warn({ err, batchId: batch.id, provider: batch.provider }, 'batch lane: a batch could not move on this tick; the next one tries again');
    }
  }
  for (let line of await deps.store.pendingGroups()) {
    if (line.count === 0) {
      await deps.store.pruneGroup(line.group);
      continue;
    }
    // A long line leaves in as many full batches as it holds.
    while (flushDue(line.count, line.oldestMs, now(), flushing)) {
      await deps.beforeEach?.();
      // Not sent (the provider is down or its breaker open): the rest waits for a later tick.
      if (!(await flush(deps, line.group, flushing.max_items, now(), report))) break;
      line = await deps.store.line(line.group);
    }
  }
  return report;
}

/** Claims and sends one batch of `group`; false when it could not be sent now (it stays for a later tick). */
async function flush(deps: LaneTickDeps, group: string, max: number, nowMs: number, report: TickReport): Promise<boolean> {
  const id = randomUUID();
  const tickets = await deps.store.claim(group, id, max, nowMs);
  const batch = tickets.length > 0 ? await deps.store.batch(id) : null;
  if (!batch) return false;
  try {
    return await send(deps, batch, report);
  } catch (err) {
    deps.log.warn({ err, batchId: id, provider: batch.provider, items: tickets.length }, 'batch lane: could not send a batch; the next tick tries again');
    return false;
  }
}

/**
 * Sends a batch; false when not sent now. Only the tick that froze a claimed batch (claimed →
 * sending, one script) sends it at once. A batch found `sending` was frozen by a tick that may
 * still be sending it or died doing so: once that send's time is surely up (FIND_AFTER_MS), the
 * provider is asked for it, and it is sent again only if the provider does not have it.
 */
async function send(deps: LaneTickDeps, batch: BatchRecord, report: TickReport): Promise<boolean> {
  const client = deps.client(batch.provider);
  if (!client) throw new Error(`no batch client for provider ${batch.provider}`);
  const now = (deps.now ?? Date.now)();
  if (batch.state === 'claimed') {
    // While the breaker is open the batch stays claimed: its jobs may still leave it for the realtime lane.
    if (await deps.breakerOpen?.(batch.provider)) return false;
    if (!(await deps.store.markSending(batch.id, now))) return false;
  } else if (now - (batch.sendingMs ?? 0) < FIND_AFTER_MS) {
    return false;
  }
  // Frozen now: its job list can no longer change.
  const frozen = batch.state === 'claimed' ? await deps.store.batch(batch.id) : batch;
  if (!frozen) return false;
  // Every job left it before it was frozen: nothing to send, nothing to collect.
  if (frozen.jobIds.length === 0) {
    await deps.store.markCollected(frozen.id);
    return true;
  }
  let providerBatchId = batch.state === 'sending' ? await client.find(frozen.id, frozen.jobIds.map(customIdOf)) : null;
  if (!providerBatchId) {
    const tickets = await deps.store.tickets(frozen.id);
    const items: BatchItemRequest[] = frozen.jobIds.flatMap((id) => {
      const t = tickets.get(id);
      return t ? [{ customId: customIdOf(id), request: t.request }] : [];
    });
    try {
      providerBatchId = await client.submit(frozen.id, items, { timeoutMs: SUBMIT_TIMEOUT_MS / 2, signal: AbortSignal.timeout(SUBMIT_TIMEOUT_MS) });
    } catch (err) {
      // The provider refused the batch itself (bad items, a rejected key): it was never created,
      // and trying again cannot help. Its jobs go to the realtime lane now, not at their deadline.
      if (isPermanentRefusal(err)) return refuse(deps, frozen, err, report);
      throw err;
    }
    report.sent++;
    deps.log.info({ event: 'batch_sent', batchId: frozen.id, providerBatchId, provider: frozen.provider, model: frozen.model, items: items.length }, 'batch lane: batch sent');
  }
  await deps.store.markSent(frozen.id, providerBatchId);
  return true;
}

function isPermanentRefusal(err: unknown): err is BatchProviderError {
  return err instanceof BatchProviderError && !err.retryable && err.status >= 400 && err.status < 500;
}

/** Ends a batch the provider refused to create: every item errored, every hold given back (nothing was billed). */
async function refuse(deps: LaneTickDeps, batch: BatchRecord, err: BatchProviderError, report: TickReport): Promise<boolean> {
  const outcome: ItemOutcome = { kind: 'errored', code: err.code, message: `The provider refused the batch: ${err.message}` };
  deps.log.error({ err, batchId: batch.id, provider: batch.provider, items: batch.jobIds.length }, 'batch lane: the provider refused a batch; its jobs go to the realtime lane');
  await finishItems(deps, batch, new Map(batch.jobIds.map((id) => [id, outcome])), await deps.store.tickets(batch.id), report);
  return true;
}

async function collectIfEnded(deps: LaneTickDeps, batch: BatchRecord, report: TickReport): Promise<void> {
  const client = deps.client(batch.provider);
  if (!client || !batch.providerBatchId) throw new Error(`batch ${batch.id} cannot be read back: no client or provider batch id`);
  // A collect cut short by a crash kept its outcomes: they stand (settled holds stay settled as they were).
  const [kept, tickets] = await Promise.all([deps.store.outcomes(batch.id), deps.store.tickets(batch.id)]);
  if (kept.size < batch.jobIds.length) {
    const status = await client.status(batch.providerBatchId);
    if (status.state === 'in_progress') return;
    const jobOf = new Map(batch.jobIds.map((id) => [customIdOf(id), id]));
    const results = await client.results(batch.providerBatchId, [...jobOf.keys()]);
    for (const r of results) {
      const jobId = jobOf.get(r.customId);
      const ticket = jobId === undefined ? undefined : tickets.get(jobId);
      if (ticket && !kept.has(jobId!)) kept.set(jobId!, itemOutcome(r, ticket, deps.config(), batch.sendingMs ?? batch.createdMs, deps.now ?? Date.now));
    }
    // Every item of the batch has an outcome, even one the provider forgot: it is not billed for it.
    for (const id of batch.jobIds) if (!kept.has(id)) kept.set(id, { kind: 'expired', code: 'batch_item_missing', message: 'The provider returned no result for this item.' });
  }
  await finishItems(deps, batch, kept, tickets, report);
  deps.log.info({ event: 'batch_collected', batchId: batch.id, providerBatchId: batch.providerBatchId, items: kept.size, failed: [...kept.values()].filter((o) => o.kind !== 'succeeded').length }, 'batch lane: batch collected');
}

/** Keeps the outcomes, settles each item's hold by its outcome, wakes the jobs, closes the batch (in that order; each step idempotent). */
async function finishItems(deps: LaneTickDeps, batch: BatchRecord, outcomes: Map<string, ItemOutcome>, tickets: Map<string, BatchTicket>, report: TickReport): Promise<void> {
  await deps.store.saveOutcomes(batch.id, outcomes);
  for (const [jobId, outcome] of outcomes) {
    const ticket = tickets.get(jobId);
    if (ticket) {
      const hold = new BudgetHold(deps.budget, ticket.holdId, { log: deps.log });
      // The batch APIs bill answered items only. An answer is settled at its usage; one billed but
      // unusable (cut short, empty), or with no price left in the config, is charged its hold's
      // worst case (spend errs high, never low); the others give their hold back.
      if (outcome.kind === 'succeeded') await hold.settle(outcome.costMicros);
      else if (outcome.billed || outcome.code === BATCH_PRICE_UNKNOWN) await hold.charge();
      else await hold.release();
    }
    await deps.wake(jobId);
  }
  await deps.store.markCollected(batch.id);
  report.collected++;
  report.items += outcomes.size;
}

/** The code of an answered item whose model has no batch price any more (its hold is charged in full). */
export const BATCH_PRICE_UNKNOWN = 'batch_price_unknown';

/** An item's outcome as the lane keeps it: an answer priced at the batch price of the day its job joined. */
export function itemOutcome(r: BatchItemOutcome, ticket: BatchTicket, cfg: GatewayConfig, sentMs: number, now: () => number): ItemOutcome {
  if (r.kind !== 'succeeded') return { kind: r.kind, code: r.code, message: r.message, ...(r.kind === 'errored' && r.billed ? { billed: true } : {}) };
  const model = cfg.providers.providers[ticket.provider]?.models[ticket.model];
  const price = model && batchPrice(priceAt(model, new Date(ticket.enqueuedMs)));
  // The model left the config meanwhile: its job goes to the realtime lane, and the hold is charged.
  if (!price) return { kind: 'errored', code: BATCH_PRICE_UNKNOWN, message: `No batch price for ${ticket.provider}/${ticket.model} any more.` };
  const usage = { inputTokens: r.result.inputTokens, outputTokens: r.result.outputTokens, cachedInputTokens: r.result.cachedInputTokens };
  return {
    kind: 'succeeded',
    text: r.result.text,
    model: r.result.model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cachedInputTokens,
    finishReason: r.result.finishReason,
    costMicros: costMicros(usage, price),
    latencyMs: Math.max(0, now() - sentMs),
  };
}
