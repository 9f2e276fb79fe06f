/**
 * The JobStore conformance tests of the job search (GET /v1/jobs): registered by
 * describeJobStoreConformance, so every adapter passes them. Each test works under a client id of
 * its own, so records other tests wrote into the shared store never show up.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { JobRecord, JobSearchQuery, JobStore } from '../../libs/store/types.ts';
import { UNANSWERED, makeJobRecord } from './storeConformance.ts';

/** The ids of every page of `query`, following each page's resumeAfter, and the size of each page. */
async function allPages(store: JobStore, query: JobSearchQuery): Promise<{ ids: string[]; pages: number; sizes: number[] }> {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: JobSearchQuery['after'];
  for (let pages = 1; pages < 100; pages++) {
    const page = await store.searchJobs({ ...query, ...(after ? { after } : {}) });
    ids.push(...page.jobs.map((j) => j.id));
    sizes.push(page.jobs.length);
    if (page.resumeAfter === null) return { ids, pages, sizes };
    after = page.resumeAfter;
  }
  throw new Error('search did not end');
}

/** `minutes` after 2025-03-01T10:00Z, as the records carry times. */
const at = (minutes: number) => new Date(Date.UTC(2025, 2, 1, 10, minutes)).toISOString();

/** Registers the search conformance tests; `store` answers the suite's initialised store. */
export function describeSearchConformance(store: () => JobStore): void {
  it("searchJobs returns exactly u1's jobs of the client, newest first, across pages", async () => {
    const client = `client-${randomUUID()}`;
    const mine: JobRecord[] = [];
    const others: JobRecord[] = [];
    for (let i = 0; i < 7; i++) mine.push(makeJobRecord({ client_id: client, user_id: 'u1', created_at: at(i) }));
    // Two of u1's jobs created in the same millisecond: the id settles their order, and paging must not skip or repeat either.
    mine.push(makeJobRecord({ id: 'job-tie-a', client_id: client, user_id: 'u1', created_at: at(3) }));
    mine.push(makeJobRecord({ id: 'job-tie-b', client_id: client, user_id: 'u1', created_at: at(3) }));
    mine.push(makeJobRecord({ ...UNANSWERED, client_id: client, user_id: 'u1', created_at: at(9) }));
    others.push(makeJobRecord({ client_id: client, user_id: 'u2', created_at: at(5) }));
    others.push(makeJobRecord({ client_id: client, user_id: null, created_at: at(6) }));
    // Another client's jobs of a user with the same id.
    others.push(makeJobRecord({ client_id: `other-${client}`, user_id: 'u1', created_at: at(4) }));
    await store().saveMany([...others, ...mine].sort(() => Math.random() - 0.5));

    const newestFirst = [...mine].sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1)).map((j) => j.id);
    for (const limit of [1, 3, 4, 10, 50]) {
      const { ids, pages } = await allPages(store(), { clientId: client, userId: 'u1', limit });
      expect(ids, `limit ${limit}`).toEqual(newestFirst);
      // A full page names the next one only when a record follows it: no empty last page.
      expect(pages).toBe(Math.ceil(mine.length / limit));
    }
    const page = await store().searchJobs({ clientId: client, userId: 'u1', limit: 2 });
    expect(page.jobs[0]).toEqual(mine.at(-1));
  });

  it("searchJobs without a user answers all the client's jobs and never another client's", async () => {
    const client = `client-${randomUUID()}`;
    const jobs = [0, 1, 2].map((i) => makeJobRecord({ client_id: client, user_id: `u${i}`, created_at: at(i) }));
    const foreign = makeJobRecord({ client_id: `other-${client}`, created_at: at(1) });
    await store().saveMany([...jobs, foreign]);
    const { ids } = await allPages(store(), { clientId: client, limit: 2 });
    expect(ids).toEqual([jobs[2]!.id, jobs[1]!.id, jobs[0]!.id]);
    expect(await store().searchJobs({ clientId: `nobody-${client}`, limit: 10 })).toEqual({ jobs: [], resumeAfter: null });
  });

  it('searchJobs filters by status, time range and metadata', async () => {
    const client = `client-${randomUUID()}`;
    const base = { client_id: client, user_id: 'u1' };
    const done = makeJobRecord({ ...base, created_at: at(1), metadata: { plan: 'pro', source: 'rails' } });
    const failed = makeJobRecord({ ...base, status: 'failed', created_at: at(2), metadata: { plan: 'free', source: 'rails' } });
    const queued = makeJobRecord({ ...base, ...UNANSWERED, created_at: at(3), metadata: { plan: 'pro' } });
    const numeric = makeJobRecord({ ...base, created_at: at(4), metadata: { plan: 42 } });
    const bare = makeJobRecord({ ...base, created_at: at(5), metadata: null });
    await store().saveMany([done, failed, queued, numeric, bare]);
    const ids = async (query: Omit<JobSearchQuery, 'clientId' | 'limit'>) =>
      (await store().searchJobs({ clientId: client, limit: 50, ...query })).jobs.map((j) => j.id);

    expect(await ids({ statuses: ['completed'] })).toEqual([bare.id, numeric.id, done.id]);
    expect(await ids({ statuses: ['failed', 'queued'] })).toEqual([queued.id, failed.id]);
    expect(await ids({ since: at(2), until: at(4) })).toEqual([queued.id, failed.id]);
    expect(await ids({ since: at(5) })).toEqual([bare.id]);
    expect(await ids({ until: at(1) })).toEqual([]);
    expect(await ids({ metadata: { plan: 'pro' } })).toEqual([queued.id, done.id]);
    expect(await ids({ metadata: { plan: 'pro', source: 'rails' } })).toEqual([done.id]);
    // Metadata matches strings: the number 42 is not the text "42".
    expect(await ids({ metadata: { plan: '42' } })).toEqual([]);
    expect(await ids({ userId: 'u1', statuses: ['completed'], metadata: { source: 'rails' }, since: at(0) })).toEqual([done.id]);
    expect(await ids({ userId: 'u2' })).toEqual([]);
  });

  it('searchJobs examines at most scanLimit records per page for status and metadata, and resumes where it stopped', async () => {
    const client = `client-${randomUUID()}`;
    const jobs = Array.from({ length: 12 }, (_, i) =>
      makeJobRecord({ client_id: client, user_id: 'u1', created_at: at(i), status: i === 0 || i === 5 ? 'failed' : 'completed' }),
    );
    await store().saveMany(jobs);
    const query = { clientId: client, userId: 'u1', statuses: ['failed' as const], limit: 5 };
    const bounded = await allPages(store(), { ...query, scanLimit: 3 });
    // Pages of 3 examined records each: 11-9, 8-6, 5-3 (job 5), 2-0 (job 0), then nothing left.
    expect(bounded).toEqual({ ids: [jobs[5]!.id, jobs[0]!.id], pages: 5, sizes: [0, 0, 1, 1, 0] });
    expect((await allPages(store(), query)).ids).toEqual(bounded.ids);

    // More matches than the page holds within the scan: the next page starts after the page's last.
    const completed = await store().searchJobs({ ...query, statuses: ['completed'], limit: 2, scanLimit: 6 });
    expect(completed.jobs.map((j) => j.id)).toEqual([jobs[11]!.id, jobs[10]!.id]);
    expect(completed.resumeAfter).toEqual({ created_at: jobs[10]!.created_at, id: jobs[10]!.id });
  });
}
