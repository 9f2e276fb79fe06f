/**
 * The batch lane's state and ticker on the real Redis, with the real budget: claiming is atomic,
 * a claimed batch is sent once even across a crash, collecting settles each hold once, and a job
 * can leave the lane only while its item has not gone out. The provider here is an in-memory
 * stand-in that records every batch it is sent (the simulator's wire is covered by the e2e test).
 */
import { afterAll, describe, expect, test } from 'vitest';
import pino from 'pino';
import { redisKit } from '../helpers/redisKit.ts';
import { BatchStore, groupOf, type BatchTicket } from '../../libs/batch/batchStore.ts';
import { FIND_AFTER_MS, runLaneTick, type LaneTickDeps } from '../../libs/batch/ticker.ts';
import { BudgetStore } from '../../libs/budget/budgetStore.ts';
import { reserveHold } from '../../libs/budget/hold.ts';
import { loadConfig } from '../../libs/config/load.ts';
import { batchPrice, costMicros, priceAt } from '../../libs/budget/cost.ts';
import { BatchProviderError, type BatchItemOutcome, type BatchItemRequest, type BatchProviderClient, type BatchState } from '../../libs/providers/batch/types.ts';

const kit = redisKit('batch-lane');
const log = pino({ level: 'silent' });
const cfg = loadConfig('config');
const NOW = Date.parse('2036-12-02T12:00:00Z');
afterAll(() => kit.cleanup());

/** A provider batch API in memory: `failing` custom ids end errored, the rest answer 100 in / 200 out tokens. */
class MemoryBatches implements BatchProviderClient {
  readonly name = 'openai';
  readonly sent: { localId: string; items: BatchItemRequest[] }[] = [];
  state: BatchState = 'in_progress';
  failing = new Set<string>();
  /** Custom ids answered (and billed) but unusable. */
  unusable = new Set<string>();
  refuse = false;
  async submit(localId: string, items: BatchItemRequest[]): Promise<string> {
    if (this.refuse) throw new BatchProviderError('openai', 'provider_bad_request', 'bad items', { retryable: false, status: 400 });
    // Let a second tick run while this one is on the wire.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.sent.push({ localId, items });
    return `batch_${this.sent.length}`;
  }
  async find(localId: string): Promise<string | null> {
    const i = this.sent.findIndex((b) => b.localId === localId);
    return i < 0 ? null : `batch_${i + 1}`;
  }
  async status(id: string) {
    return { providerBatchId: id, state: this.state };
  }
  async results(id: string, customIds: readonly string[]): Promise<BatchItemOutcome[]> {
    expect(this.sent[Number(id.slice(6)) - 1]!.items.map((i) => i.customId)).toEqual(customIds);
    return customIds.map((customId) =>
      this.failing.has(customId)
        ? { customId, kind: 'errored', code: 'provider_error', message: 'item failed' }
        : this.unusable.has(customId)
        ? { customId, kind: 'errored', code: 'provider_malformed_response', message: 'empty answer', billed: true }
        : { customId, kind: 'succeeded', result: { text: `answer ${customId}`, model: 'gpt-4', inputTokens: 100, outputTokens: 200, cachedInputTokens: 0, finishReason: 'stop' } },
    );
  }
}

async function world() {
  const redis = kit.connect();
  const prefix = kit.freshPrefix();
  const budget = new BudgetStore(redis, prefix, () => NOW);
  const store = new BatchStore(redis, prefix);
  const provider = new MemoryBatches();
  const woken: string[] = [];
  const config = { ...cfg, providers: { ...cfg.providers, batch: { ...cfg.providers.batch!, max_items: 3, max_age_ms: 1000 } } };
  const deps: LaneTickDeps = { store, client: () => provider, config: () => config, budget, wake: async (id) => void woken.push(id), log, now: () => NOW };
  const join = async (jobId: string, worstCase = 10_000) => {
    const holdId = `${jobId}:batch:1`;
    const held = await reserveHold(budget, { holdId, amountMicros: worstCase, limits: { monthlyMicros: 5_000_000_000, dailyMicros: null }, ttlMs: 3_600_000, thresholds: [] }, { log });
    expect(held.ok).toBe(true);
    const ticket: BatchTicket = { jobId, holdId, provider: 'openai', model: 'gpt-4', request: { model: 'gpt-4', system: 's', user: `u ${jobId}`, maxOutputTokens: 300, temperature: 0.7 }, enqueuedMs: NOW - 2000 };
    await store.enqueue(ticket);
    return ticket;
  };
  return { redis, prefix, budget, store, provider, woken, deps, join };
}

const itemCost = costMicros({ inputTokens: 100, outputTokens: 200 }, batchPrice(priceAt(cfg.providers.providers['openai']!.models['gpt-4']!, new Date(NOW)))!);

describe('batch lane on Redis', () => {
  test('a due group is claimed and sent once; its answers are settled at the batch price and failures give their hold back', async () => {
    const w = await world();
    for (const id of ['a', 'b', 'c', 'd']) await w.join(id);
    await w.join('a'); // a rerun joining again keeps one place in line
    const first = await runLaneTick(w.deps);
    expect(first.sent).toBe(2); // three items (max_items), then the remaining one (old enough)
    expect(w.provider.sent.map((b) => b.items.map((i) => i.customId).sort())).toEqual([['a', 'b', 'c'], ['d']]);
    expect(await runLaneTick(w.deps)).toEqual({ sent: 0, collected: 0, items: 0 }); // still in progress
    w.provider.state = 'ended';
    w.provider.failing.add('b');
    expect(await runLaneTick(w.deps)).toEqual({ sent: 0, collected: 2, items: 4 });
    expect(w.woken.sort()).toEqual(['a', 'b', 'c', 'd']);
    const snap = await w.budget.snapshot();
    expect(snap.month.spent).toBe(3 * itemCost);
    expect(snap.month.reserved).toBe(0);
    expect((await w.store.itemOf('a', 'a:batch:1')).outcome).toMatchObject({ kind: 'succeeded', costMicros: itemCost, text: 'answer a' });
    expect((await w.store.itemOf('b', 'b:batch:1')).outcome).toMatchObject({ kind: 'errored', code: 'provider_error' });
    // Collected batches are closed: another tick does nothing, and pays nothing again.
    expect(await runLaneTick(w.deps)).toEqual({ sent: 0, collected: 0, items: 0 });
    expect((await w.budget.snapshot()).month.spent).toBe(3 * itemCost);
  });

  test('a batch claimed by a tick that crashed before sending is sent by the next tick, once', async () => {
    const w = await world();
    for (const id of ['a', 'b']) await w.join(id);
    // The crashed tick: it claimed, and never sent.
    expect(await w.store.claim(groupOf('openai', 'gpt-4'), 'crashed-1', 10, NOW)).toHaveLength(2);
    await runLaneTick(w.deps);
    expect(w.provider.sent).toEqual([expect.objectContaining({ localId: 'crashed-1' })]);
    // The crash came after the provider took it, before we recorded its id: found, not sent again,
    // and no job can leave it any more.
    await w.join('c');
    await w.store.claim(groupOf('openai', 'gpt-4'), 'crashed-2', 10, NOW);
    expect(await w.store.markSending('crashed-2', NOW - FIND_AFTER_MS)).toBe(true);
    await w.provider.submit('crashed-2', [{ customId: 'c', request: { model: 'gpt-4', system: 's', user: 'u', maxOutputTokens: 1, temperature: 0 } }]);
    expect(await w.store.withdraw('c', groupOf('openai', 'gpt-4'))).toBe(false);
    await runLaneTick(w.deps);
    expect(w.provider.sent.map((b) => b.localId)).toEqual(['crashed-1', 'crashed-2']);
    expect((await w.store.batch('crashed-2'))).toMatchObject({ state: 'sent', providerBatchId: 'batch_2' });
  });

  test('a job leaves the lane while in line or claimed, never once its batch went out', async () => {
    const w = await world();
    const group = groupOf('openai', 'gpt-4');
    await w.join('waiting');
    expect(await w.store.withdraw('waiting', group)).toBe(true);
    expect((await w.store.pendingGroups()).find((g) => g.group === group)?.count).toBe(0);
    await w.join('claimed');
    await w.join('other');
    await w.store.claim(group, 'b1', 10, NOW);
    expect(await w.store.withdraw('claimed', group)).toBe(true);
    expect((await w.store.batch('b1'))!.jobIds).toEqual(['other']);
    await runLaneTick(w.deps);
    expect(w.provider.sent[0]!.items.map((i) => i.customId)).toEqual(['other']);
    expect(await w.store.withdraw('other', group)).toBe(false);
  });

  test('a job is never put in line again once a batch took it', async () => {
    const w = await world();
    const ticket = await w.join('a');
    await w.store.claim(groupOf('openai', 'gpt-4'), 'b1', 10, NOW);
    expect(await w.store.enqueue(ticket)).toBe(false);
    expect((await w.store.pendingGroups())[0]!.count).toBe(0);
  });

  test('two ticks at once send a claimed batch once', async () => {
    const w = await world();
    await w.join('a');
    await w.store.claim(groupOf('openai', 'gpt-4'), 'b1', 10, NOW);
    await Promise.all([runLaneTick(w.deps), runLaneTick(w.deps)]);
    expect(w.provider.sent.map((b) => b.localId)).toEqual(['b1']);
  });

  test('a batch left sending is looked up at the provider only once its send is surely over', async () => {
    const w = await world();
    await w.join('a');
    await w.store.claim(groupOf('openai', 'gpt-4'), 'b1', 10, NOW);
    expect(await w.store.markSending('b1', NOW - 1000)).toBe(true);
    expect(await w.store.markSending('b1', NOW)).toBe(false);
    await runLaneTick(w.deps); // another tick may still be sending it: left alone
    expect(w.provider.sent).toEqual([]);
    expect((await w.store.batch('b1'))!.state).toBe('sending');
    await runLaneTick({ ...w.deps, now: () => NOW - 1000 + FIND_AFTER_MS - 1 }); // its send may still land: left alone
    expect(w.provider.sent).toEqual([]);
    await runLaneTick({ ...w.deps, now: () => NOW - 1000 + FIND_AFTER_MS }); // not at the provider: sent now
    expect(w.provider.sent.map((b) => b.localId)).toEqual(['b1']);
  });

  test('an answered but unusable item is charged its worst case; a batch the provider refuses gives every hold back', async () => {
    const w = await world();
    await w.join('a', 10_000);
    await w.join('b', 10_000);
    w.provider.unusable.add('a');
    await runLaneTick(w.deps);
    w.provider.state = 'ended';
    await runLaneTick(w.deps);
    expect((await w.budget.snapshot()).month.spent).toBe(10_000 + itemCost);

    const r = await world();
    await r.join('c', 10_000);
    r.provider.refuse = true;
    await runLaneTick(r.deps);
    expect(r.provider.sent).toEqual([]);
    expect((await r.store.itemOf('c', 'c:batch:1')).outcome).toMatchObject({ kind: 'errored', code: 'provider_bad_request' });
    expect(r.woken).toEqual(['c']);
    const snap = await r.budget.snapshot();
    expect([snap.month.spent, snap.month.reserved]).toEqual([0, 0]);
    expect(await r.store.openBatches()).toEqual([]);
  });

  test('a collect redone after a crash keeps the outcomes it saved', async () => {
    const w = await world();
    await w.join('a');
    await runLaneTick(w.deps);
    const [batch] = await w.store.openBatches();
    await w.store.saveOutcomes(batch!.id, new Map([['a', { kind: 'succeeded', text: 'first', model: 'gpt-4', inputTokens: 100, outputTokens: 200, cachedInputTokens: 0, finishReason: 'stop', costMicros: itemCost, latencyMs: 1 }]]));
    w.provider.state = 'ended';
    await runLaneTick(w.deps);
    expect((await w.store.itemOf('a', 'a:batch:1')).outcome).toMatchObject({ text: 'first' });
    expect((await w.budget.snapshot()).month.spent).toBe(itemCost);
  });

  test('an item pointer left by an earlier job of the same id (another hold) neither blocks the line nor answers for it', async () => {
    const w = await world();
    await w.join('cat');
    await runLaneTick(w.deps);
    w.provider.state = 'ended';
    await runLaneTick(w.deps);
    expect((await w.store.itemOf('cat', 'cat:batch:1')).outcome).toMatchObject({ kind: 'succeeded' });
    // The same id again (a category job renewed), under a new hold.
    const again = { jobId: 'cat', holdId: 'cat:batch:2', provider: 'openai', model: 'gpt-4', request: { model: 'gpt-4', system: 's', user: 'u', maxOutputTokens: 300, temperature: 0.7 }, enqueuedMs: NOW };
    expect(await w.store.itemOf('cat', 'cat:batch:2')).toEqual({ batchId: null, outcome: undefined });
    expect(await w.store.enqueue(again)).toBe(true);
  });
});
