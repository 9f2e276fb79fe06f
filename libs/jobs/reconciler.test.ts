import { describe, expect, test } from 'vitest';
import { countAction, decideRecord, emptyCounts, sweepable, type RecordAction } from './reconciler.ts';
import { makeIntakeRecord } from '../../test/helpers/storeRecoveryConformance.ts';
import { makeJobRecord } from '../../test/helpers/storeConformance.ts';
import type { JobRecord } from '../store/types.ts';

const queued = makeIntakeRecord({ id: 'job-1', client_id: 'acme', user_id: 'u-1', callback_url: 'https://example.com/hook', metadata: { k: 'v' }, created_at: '2026-11-25T12:00:00.000Z' });
const { intake: _intake, ...withoutIntake } = queued;

const cases: Array<[string, boolean, JobRecord | null, Partial<RecordAction>]> = [
  ['Redis still knows the job', true, queued, { kind: 'skip', reason: 'in_queue' }],
  ['the record was removed meanwhile', false, null, { kind: 'skip', reason: 'gone' }],
  ['the job finished between the two reads', false, makeJobRecord({ id: 'job-1' }), { kind: 'skip', reason: 'finished' }],
  ['the job was cancelled meanwhile', false, makeJobRecord({ id: 'job-1', status: 'cancelled' }), { kind: 'skip', reason: 'finished' }],
  ['the record holds no intake facts', false, withoutIntake as JobRecord, { kind: 'skip', reason: 'no_intake' }],
  ['Redis lost a queued job', false, queued, { kind: 'requeue' }],
  ['Redis lost a job the store saw active', false, { ...queued, status: 'active' }, { kind: 'requeue' }],
];

describe('decideRecord', () => {
  test.each(cases)('%s', (_name, inQueue, again, expected) => {
    expect(decideRecord(queued, inQueue, again)).toMatchObject({ id: 'job-1', ...expected });
  });

  test('a requeued job gets its intake back, under the same id and with its idempotency fingerprint', () => {
    expect(decideRecord(queued, false, queued)).toEqual({
      kind: 'requeue',
      id: 'job-1',
      data: {
        clientId: 'acme',
        feature: 'career_path_navigator',
        input: queued.intake!.input,
        userId: 'u-1',
        callbackUrl: 'https://example.com/hook',
        metadata: { k: 'v' },
        createdAt: '2026-11-25T12:00:00.000Z',
        idempotencyFingerprint: 'print-1',
      },
    });
  });

  test('counts actions by kind and reason', () => {
    const counts = emptyCounts();
    for (const [, inQueue, again] of cases) countAction(counts, decideRecord(queued, inQueue, again));
    expect(counts).toEqual({ requeue: 2, skip: 5, in_queue: 1, finished: 2, gone: 1, no_intake: 1 });
  });
});

describe('sweepable', () => {
  const at = Date.parse('2026-11-25T12:10:00.000Z');
  test.each([
    ['2026-11-25T12:00:00.000Z', true],
    ['2026-11-25T12:08:00.000Z', false],
    ['2026-11-25T12:09:59.000Z', false],
    ['not a date', false],
  ])('created %s, 2 minutes at least: %s', (created, expected) => {
    expect(sweepable({ created_at: created }, at, 120_000)).toBe(expected);
  });
});
