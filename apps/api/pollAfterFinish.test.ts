import { describe, expect, test } from 'vitest';
import type { Queue } from 'bullmq';
import type { JobRecord, JobStore } from '../../libs/store/types.ts';
import type { LlmJobData } from '../../libs/queue/jobs.ts';
import { recordFromQueuedJob } from '../../libs/jobs/view.ts';
import { getJob, type ApiDeps } from './handlers.ts';

const ID = '01a23709-a8bb-7e5d-b79e-41edf3e05a6c';
const data: LlmJobData = { clientId: 'acme', feature: 'career_path_navigator', input: {}, userId: null, callbackUrl: null, metadata: null, createdAt: '2026-12-02T10:00:00.000Z' };
const active: JobRecord = recordFromQueuedJob(ID, data, 'active', { attemptsMade: 0, processedOn: Date.parse('2026-12-02T10:00:01Z') });
const completed: JobRecord = { ...active, status: 'completed', completed_at: '2026-12-02T10:00:02.000Z' };

/** Deps whose store answers `reads` in turn and whose queue no longer holds the job (a completed job is gone from Redis once its hour there has passed). */
function deps(reads: Array<JobRecord | null>): ApiDeps {
  const store = { get: async () => reads.shift() ?? null } as unknown as JobStore;
  const queue = { getJob: async () => undefined } as unknown as Queue<LlmJobData>;
  return { store, queue } as unknown as ApiDeps;
}

describe('GET /v1/jobs/:id when the job has just left the queue', () => {
  test('a job that completed between the store read and the queue read answers its ended record', async () => {
    const answer = await getJob(deps([active, completed]), 'acme', ID);
    expect(answer.body).toMatchObject({ id: ID, status: 'completed', completed_at: '2026-12-02T10:00:02.000Z' });
  });

  test('a job Redis lost (its record still unfinished) answers the stored record', async () => {
    const answer = await getJob(deps([active, active]), 'acme', ID);
    expect(answer.body).toMatchObject({ id: ID, status: 'active' });
  });
});
