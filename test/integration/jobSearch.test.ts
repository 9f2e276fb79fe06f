/**
 * GET /v1/jobs over HTTP against the real app (Express, the SQLite store, Redis): scoped to the
 * key's client, paged by next_cursor, refusing bad parameters with stable codes, rate limited as
 * a read.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { GatewayClient } from '../../libs/client/gatewayClient.ts';
import type { JobRecord } from '../../libs/store/types.ts';
import { SEARCH_SCAN_LIMIT } from '../../libs/jobs/search.ts';
import { makeJobRecord } from '../helpers/storeConformance.ts';
import { startInProcessApi, type InProcessApi } from '../helpers/inProcessApi.ts';

const keys = { alice: 'alice-key-0123456789abcdef', bob: 'bob-key-0123456789abcdef', dora: 'dora-key-0123456789abcdef' };
let api: InProcessApi<keyof typeof keys>;
let alice: GatewayClient;

interface Page {
  jobs: Array<Record<string, unknown>>;
  next_cursor: string | null;
}

const at = (minutes: number) => new Date(Date.UTC(2025, 2, 1, 10, minutes)).toISOString();

beforeAll(async () => {
  // Dora may read three times a minute, for the rate-limit test.
  api = await startInProcessApi({ name: 'job-search', keys, clientLimits: { dora: { rpm: 600, read_rpm: 3 } } });
  alice = api.client('alice');
});

afterAll(() => api?.stop());

/** Every page of `query` for `client`, following next_cursor. */
async function allPages(client: GatewayClient, query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let path = `/v1/jobs?${query}`;
  for (let pages = 1; pages < 50; pages++) {
    const answer = await client.request<Page>('GET', path);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    ids.push(...answer.body.jobs.map((j) => String(j.id)));
    if (answer.body.next_cursor === null) return { ids, pages };
    path = `/v1/jobs?${query}&cursor=${encodeURIComponent(answer.body.next_cursor)}`;
  }
  throw new Error('the pages did not end');
}

describe('GET /v1/jobs', () => {
  test("answers exactly the user's jobs of the key's client, newest first, across pages", async () => {
    const mine: JobRecord[] = Array.from({ length: 5 }, (_, i) => makeJobRecord({ client_id: 'alice', user_id: 'search-u1', created_at: at(i), metadata: { plan: i % 2 ? 'pro' : 'free' } }));
    const foreign = makeJobRecord({ client_id: 'bob', user_id: 'search-u1', created_at: at(9) });
    const otherUser = makeJobRecord({ client_id: 'alice', user_id: 'search-u2', created_at: at(8) });
    await api.store.saveMany([...mine, foreign, otherUser]);

    const newestFirst = mine.map((j) => j.id).reverse();
    expect(await allPages(alice, 'user_id=search-u1&limit=2')).toEqual({ ids: newestFirst, pages: 3 });
    expect((await allPages(alice, 'user_id=search-u1')).ids).toEqual(newestFirst);
    expect((await allPages(alice, 'user_id=search-u1&metadata.plan=pro&limit=1')).ids).toEqual([mine[3]!.id, mine[1]!.id]);
    expect((await allPages(api.client('bob'), 'user_id=search-u1')).ids).toEqual([foreign.id]);

    const first = await alice.request<Page>('GET', '/v1/jobs?user_id=search-u1&limit=1');
    // The job as GET /v1/jobs/:id shows it: no client id, no stored intake.
    expect(first.body.jobs[0]).toMatchObject({ id: mine[4]!.id, status: 'completed', user_id: 'search-u1' });
    expect(first.body.jobs[0]).not.toHaveProperty('client_id');
  });

  test('a rare status match: a page examines a bounded slice, may come back empty, and names the next', async () => {
    const jobs = Array.from({ length: SEARCH_SCAN_LIMIT + 100 }, (_, i) =>
      makeJobRecord({ client_id: 'alice', user_id: 'scan-u1', created_at: new Date(Date.UTC(2025, 5, 1) + i * 1000).toISOString(), status: i === 0 ? 'failed' : 'completed' }),
    );
    await api.store.saveMany(jobs);
    const first = await alice.request<Page>('GET', '/v1/jobs?user_id=scan-u1&status=failed');
    expect(first.status).toBe(200);
    expect(first.body.jobs).toEqual([]);
    expect(first.body.next_cursor).not.toBeNull();
    expect(await allPages(alice, 'user_id=scan-u1&status=failed')).toEqual({ ids: [jobs[0]!.id], pages: 2 });
  });

  test.each([
    ['limit=0', 'invalid_query', 'limit'],
    ['limit=201', 'invalid_query', 'limit'],
    ['status=done', 'invalid_query', 'status'],
    ['since=yesterday', 'invalid_query', 'since'],
    ['user_id=a&user_id=b', 'invalid_query', 'user_id'],
    ['metadata.a.b=1', 'invalid_query', 'metadata.a.b'],
    ['userid=u1', 'invalid_query', 'userid'],
    ['cursor=not-a-cursor', 'invalid_cursor', 'cursor'],
  ])('refuses ?%s with 400 %s naming the parameter', async (query, code, path) => {
    const answer = await alice.request<{ error: { code: string; details: Array<{ path: string }> } }>('GET', `/v1/jobs?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.details.map((d) => d.path)).toEqual([path]);
  });

  test('needs an API key', async () => {
    const answer = await fetch(`${api.baseUrl}/v1/jobs?user_id=search-u1`);
    expect(answer.status).toBe(401);
  });

  test('spends the read rate limit', async () => {
    const dora = api.client('dora');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await dora.request('GET', '/v1/jobs')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
