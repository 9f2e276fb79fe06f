/**
 * The JobStore conformance tests of the recovery queries (what the worker rebuilds Redis from):
 * registered by describeJobStoreConformance, so every adapter passes them too.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { JobRecord, JobStore } from '../../libs/store/types.ts';
import { UNANSWERED, makeJobRecord } from './storeConformance.ts';

/** A queued intake record, as the API writes it before answering 202. */
export function makeIntakeRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return makeJobRecord({
    ...UNANSWERED,
    intake: { input: { current_role: 'Analyste', years: 3, nested: { list: [1, 'deux'] } } },
    idempotency_fingerprint: 'print-1',
    ...overrides,
  });
}

/** Registers the recovery conformance tests; `store` answers the suite's initialised store. */
export function describeRecoveryConformance(store: () => JobStore): void {
  it('keeps the intake facts of a queued record; a terminal record replaces them', async () => {
    const queued = makeIntakeRecord();
    await store().save(queued);
    expect(await store().get(queued.client_id, queued.id)).toEqual(queued);
    const done = makeJobRecord({ id: queued.id, idempotency_fingerprint: 'print-1' });
    expect(await store().save(done)).toBe('written');
    const stored = await store().get(done.client_id, done.id);
    expect(stored).toEqual(done);
    expect(stored).not.toHaveProperty('intake');
  });

  it('removeUnfinished deletes a queued or active record, never a terminal one', async () => {
    const queued = makeIntakeRecord();
    const active = makeIntakeRecord({ status: 'active' });
    const done = makeJobRecord();
    await store().saveMany([queued, active, done]);
    expect(await store().removeUnfinished(queued.id)).toBe(true);
    expect(await store().removeUnfinished(active.id)).toBe(true);
    expect(await store().removeUnfinished(done.id)).toBe(false);
    expect(await store().removeUnfinished(`missing-${randomUUID()}`)).toBe(false);
    expect((await store().getMany([queued.id, active.id, done.id])).map((r) => r.id)).toEqual([done.id]);
  });

  it('unfinished pages through queued and active records of every client in id order, skipping terminal ones', async () => {
    const tag = randomUUID();
    const mine = [
      makeIntakeRecord({ id: `job-${tag}-3` }),
      makeIntakeRecord({ id: `job-${tag}-1`, client_id: 'client-b', status: 'active' }),
      makeIntakeRecord({ id: `job-${tag}-2` }),
    ];
    await store().saveMany([...mine, makeJobRecord({ id: `job-${tag}-0` }), makeJobRecord({ id: `job-${tag}-4`, status: 'cancelled' })]);
    const seen: JobRecord[] = [];
    for (let after = '', page: JobRecord[]; (page = await store().unfinished(after, 2)).length > 0; after = page.at(-1)!.id) {
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page);
    }
    const ids = seen.map((r) => r.id);
    expect(ids).toEqual([...ids].sort());
    expect(seen.filter((r) => r.id.startsWith(`job-${tag}-`))).toEqual([mine[1], mine[2], mine[0]]);
  });

  it('spentMicros sums the costs of terminal records completed in the window, rounded to micro-dollars', async () => {
    // A window of its own, far from every other test's records.
    const start = Date.UTC(2090, 0, 1) + randomInt(0, 2 ** 40);
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    await store().saveMany([
      makeJobRecord({ cost_usd: 0.009006, completed_at: at(0) }),
      makeJobRecord({ status: 'failed', cost_usd: 0.0000015, completed_at: at(30) }),
      makeJobRecord({ cost_usd: null, completed_at: at(31) }),
      makeJobRecord({ cost_usd: 0.5, completed_at: at(60) }),
      makeJobRecord({ cost_usd: 0.25, completed_at: at(-1) }),
      makeIntakeRecord({ cost_usd: 0.125 }),
    ]);
    expect(await store().spentMicros(at(0), at(60))).toBe(9006 + 2);
    expect(await store().spentMicros(at(0), at(61))).toBe(9006 + 2 + 500_000);
    expect(await store().spentMicros(at(100), at(200))).toBe(0);
  });
}
