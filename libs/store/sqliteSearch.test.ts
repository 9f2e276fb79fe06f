import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { SqliteJobStore } from './sqlite.ts';
import { searchSql } from './sqliteSearch.ts';
import type { JobSearchQuery } from './types.ts';

// The plans are read on the schema the store creates (an in-memory file of its own).
describe('searchSql', () => {
  const file = `file:search-plan-${process.pid}?mode=memory&cache=shared`;
  let store: SqliteJobStore;
  let db: DatabaseSync;

  beforeAll(async () => {
    store = new SqliteJobStore(file);
    await store.init();
    db = new DatabaseSync(file);
  });

  afterAll(async () => {
    db?.close();
    await store?.close();
  });

  const plan = ({ sql, params }: { sql: string; params: Array<string | number> }) => {
    return db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => String(r.detail))
      .join('\n');
  };

  const after = { created_at: '2025-03-01T10:00:00.000Z', id: 'j' };

  it.each<[string, JobSearchQuery, string]>([
    ['a user', { clientId: 'c', userId: 'u1', limit: 50 }, 'jobs_client_user_created'],
    ['a user, after a cursor, with filters', { clientId: 'c', userId: 'u1', statuses: ['completed'], since: '2025-01-01T00:00:00.000Z', metadata: { plan: 'pro' }, after, limit: 50, scanLimit: 2000 }, 'jobs_client_user_created'],
    ['a client', { clientId: 'c', limit: 50 }, 'jobs_client_created_id'],
    ['a client, after a cursor, with filters', { clientId: 'c', statuses: ['failed', 'rejected'], after, limit: 50, scanLimit: 2000 }, 'jobs_client_created_id'],
    ['a client, with filters and no scan limit', { clientId: 'c', statuses: ['failed'], limit: 50 }, 'jobs_client_created_id'],
  ])('pages through %s on an index, with no sort', (_name, query, index) => {
    const { page, scanEnd } = searchSql(query);
    const detail = plan(page);
    expect(detail).toContain(index);
    expect(detail).not.toContain('TEMP B-TREE');
    if (scanEnd) expect(plan(scanEnd)).toContain(`COVERING INDEX ${index}`);
  });

  it('binds every value, the metadata path included', () => {
    const { page } = searchSql({ clientId: "c' OR 1=1 --", metadata: { plan: "x'" }, limit: 5 });
    expect(page.sql).not.toContain("c'");
    expect(page.params).toEqual(["c' OR 1=1 --", '$.metadata."plan"', "x'", 6]);
  });
});
