import { describe, expect, it } from 'vitest';
import { JOB_INDEXES } from './mongoSchema.ts';
import { searchQueries } from './mongoSearch.ts';

const SORT = { $sort: { created_at: -1, _id: -1 } };

describe('searchQueries', () => {
  it('scopes to the client, matches values with $eq and sorts newest first', () => {
    expect(searchQueries({ clientId: 'c', userId: 'u1', statuses: ['completed'], metadata: { plan: '$gt' }, limit: 10 })).toEqual({
      page: [
        { $match: { client_id: { $eq: 'c' }, user_id: { $eq: 'u1' }, status: { $in: ['completed'] }, 'metadata.plan': { $eq: '$gt' } } },
        SORT,
        { $limit: 11 },
      ],
    });
  });

  it('bounds the time range and resumes after the cursor', () => {
    const { page } = searchQueries({
      clientId: 'c',
      since: '2025-03-01T00:00:00.000Z',
      until: '2025-04-01T00:00:00.000Z',
      after: { created_at: '2025-03-10T00:00:00.000Z', id: 'j5' },
      limit: 10,
      scanLimit: 100,
    });
    expect(page[0]).toEqual({
      $match: {
        client_id: { $eq: 'c' },
        created_at: { $gte: '2025-03-01T00:00:00.000Z', $lt: '2025-04-01T00:00:00.000Z', $lte: '2025-03-10T00:00:00.000Z' },
        $or: [{ created_at: { $lt: '2025-03-10T00:00:00.000Z' } }, { _id: { $lt: 'j5' } }],
      },
    });
  });

  it('matches status and metadata within the scan limit, and finds where the scan ended', () => {
    const { page, scanEnd } = searchQueries({ clientId: 'c', statuses: ['failed'], metadata: { plan: 'pro' }, limit: 10, scanLimit: 100 });
    expect(page).toEqual([
      { $match: { client_id: { $eq: 'c' } } },
      SORT,
      { $limit: 100 },
      { $match: { status: { $in: ['failed'] }, 'metadata.plan': { $eq: 'pro' } } },
      { $limit: 11 },
    ]);
    expect(scanEnd).toEqual([{ $match: { client_id: { $eq: 'c' } } }, SORT, { $skip: 99 }, { $limit: 1 }, { $project: { _id: 1, created_at: 1 } }]);
  });

  it('has an index for each shape it sorts (with and without a user)', () => {
    const keys = JOB_INDEXES.map(([k]) => JSON.stringify(k));
    expect(keys).toContain(JSON.stringify({ client_id: 1, created_at: -1, _id: -1 }));
    expect(keys).toContain(JSON.stringify({ client_id: 1, user_id: 1, created_at: -1, _id: -1 }));
  });
});
