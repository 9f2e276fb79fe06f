/**
 * One tick of the batch lane, run by one worker at a time (a BullMQ job scheduler, see
 * scheduler.ts): send the batches that were claimed but not sent, look at the ones out with a
 * provider and collect those that ended, then claim and send the groups that are due.
 *
 * Crash safety. A batch is claimed (its items leave the line atomically) before it is sent, and
 * sent under our id, which the provider keeps (OpenAI metadata; Anthropic custom ids): a claimed
 * batch found by a later tick is looked up at the provider first and sent only if it is not there,
 * so no crash sends it twice. Collecting keeps every item's outcome first, then settles each hold
 * (idempotent per hold id), wakes the jobs (idempotent) and only then closes the batch: a crash
 * anywhere in between is redone by the next tick without paying or counting anything twice.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.ts';
import type { BudgetStore } from '../budget/budgetStore.ts';
import { BudgetHold } from '../budget/hold.ts';
import { batchPrice, costMicros, priceAt } from '../budget/cost.ts';
import type { BatchItemOutcome, BatchItemRequest, BatchProviderClient } from '../providers/batch/types.ts';
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

/** Runs one tick (see the module comment). */
export async function runLaneTick(deps: LaneTickDeps): Promise<TickReport> {
  const settings = deps.config().providers.batch;
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
  if (!settings?.enabled) return report;
  for (let line of await deps.store.pendingGroups()) {
    if (line.count === 0) {
      await deps.store.pruneGroup(line.group);
      continue;
    }
    // A long line leaves in as many full batches as it holds.
    while (flushDue(line.count, line.oldestMs, now(), settings)) {
      await deps.beforeEach?.();
      // Not sent (the provider is down or its breaker open): the rest waits for a later tick.
      if (!(await flush(deps, line.group, settings.max_items, now(), report))) break;
      line = await deps.store.line(line.group);
    }
  }
  return report;
}

/** Claims and sends one batch of `group`; false when it could not be sent now (it stays claimed for a later tick). */
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
 * Sends a batch unless the provider has it already; false when not sent now (its provider's
 * breaker is open). A batch left `sending` by an earlier tick may have reached the provider before
 * that tick ended: it is looked up there first, and sent only if it is not found.
 */
async function send(deps: LaneTickDeps, claimed: BatchRecord, report: TickReport): Promise<boolean> {
  const client = deps.client(claimed.provider);
  if (!client) throw new Error(`no batch client for provider ${claimed.provider}`);
  // While the breaker is open the batch stays `claimed`: its jobs may still leave it for the realtime lane.
  if (claimed.state === 'claimed' && (await deps.breakerOpen?.(claimed.provider))) return false;
  const mayExist = claimed.state === 'sending';
  const batch = claimed.state === 'claimed' ? await deps.store.markSending(claimed.id) : claimed;
  if (!batch) return false;
  // Every job left it: nothing to send, nothing to collect.
  if (batch.jobIds.length === 0) {
    await deps.store.markCollected(batch.id);
    return true;
  }
  let providerBatchId = mayExist ? await client.find(batch.id, batch.jobIds.map(customIdOf)) : null;
  if (!providerBatchId) {
    const tickets = await deps.store.tickets(batch.id);
    const items: BatchItemRequest[] = batch.jobIds.flatMap((id) => {
      const t = tickets.get(id);
      return t ? [{ customId: customIdOf(id), request: t.request }] : [];
    });
    providerBatchId = await client.submit(batch.id, items);
    report.sent++;
    deps.log.info({ event: 'batch_sent', batchId: batch.id, providerBatchId, provider: batch.provider, model: batch.model, items: items.length }, 'batch lane: batch sent');
  }
  await deps.store.markSent(batch.id, providerBatchId);
  return true;
}

async function collectIfEnded(deps: LaneTickDeps, batch: BatchRecord, report: TickReport): Promise<void> {
  const client = deps.client(batch.provider);
  if (!client || !batch.providerBatchId) throw new Error(`batch ${batch.id} cannot be read back: no client or provider batch id`);
  const status = await client.status(batch.providerBatchId);
  if (status.state === 'in_progress') return;
  const jobOf = new Map(batch.jobIds.map((id) => [customIdOf(id), id]));
  const [results, tickets] = await Promise.all([client.results(batch.providerBatchId, [...jobOf.keys()]), deps.store.tickets(batch.id)]);
  const outcomes = new Map<string, ItemOutcome>();
  for (const r of results) {
    const jobId = jobOf.get(r.customId);
    const ticket = jobId === undefined ? undefined : tickets.get(jobId);
    if (ticket) outcomes.set(jobId!, itemOutcome(r, ticket, deps.config(), batch.createdMs, deps.now ?? Date.now));
  }
  // Every item of the batch has an outcome, even one the provider forgot: it is not billed for it.
  for (const id of batch.jobIds) if (!outcomes.has(id) && tickets.has(id)) outcomes.set(id, { kind: 'expired', code: 'batch_item_missing', message: 'The provider returned no result for this item.' });
  await deps.store.saveOutcomes(batch.id, outcomes);
  for (const [jobId, outcome] of outcomes) {
    const ticket = tickets.get(jobId)!;
    const hold = new BudgetHold(deps.budget, ticket.holdId, { log: deps.log });
    // Only answered items are billed by the batch APIs; the others give their hold back. An answer
    // with no price left in the config is charged its hold's worst case: spend errs high, never low.
    if (outcome.kind === 'succeeded') await hold.settle(outcome.costMicros);
    else if (outcome.code === BATCH_PRICE_UNKNOWN) await hold.charge();
    else await hold.release();
    await deps.wake(jobId);
  }
  await deps.store.markCollected(batch.id);
  report.collected++;
  report.items += outcomes.size;
  deps.log.info({ event: 'batch_collected', batchId: batch.id, providerBatchId: batch.providerBatchId, state: status.state, items: outcomes.size, failed: [...outcomes.values()].filter((o) => o.kind !== 'succeeded').length }, 'batch lane: batch collected');
}

/** The code of an answered item whose model has no batch price any more (its hold is charged in full). */
export const BATCH_PRICE_UNKNOWN = 'batch_price_unknown';

/** An item's outcome as the lane keeps it: an answer priced at the batch price of the day its job joined. */
export function itemOutcome(r: BatchItemOutcome, ticket: BatchTicket, cfg: GatewayConfig, sentMs: number, now: () => number): ItemOutcome {
  if (r.kind !== 'succeeded') return { kind: r.kind, code: r.code, message: r.message };
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
