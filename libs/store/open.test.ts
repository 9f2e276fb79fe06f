import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/index.ts';
import { openJobStore, parseDatabaseUrl } from './open.ts';

function errorOf(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (isGatewayError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a GatewayError');
}

describe('parseDatabaseUrl', () => {
  it.each([
    ['./data/gateway.sqlite', './data/gateway.sqlite'],
    ['/var/lib/gateway/jobs.db', '/var/lib/gateway/jobs.db'],
    ['data/jobs.db', 'data/jobs.db'],
    ['  ./data/x.sqlite  ', './data/x.sqlite'],
    [':memory:', ':memory:'],
    ['sqlite:///abs/path/jobs.db', '/abs/path/jobs.db'],
    ['sqlite:relative/path.db', 'relative/path.db'],
    ['sqlite:./data/x.db', './data/x.db'],
    ['SQLITE:relative.db', 'relative.db'],
    ['sqlite::memory:', ':memory:'],
    ['file:///abs/path/jobs.db', '/abs/path/jobs.db'],
    ['file:///abs/with%20space.db', '/abs/with space.db'],
    ['file:relative/jobs.db', 'relative/jobs.db'],
    ['C:\\data\\jobs.db', 'C:\\data\\jobs.db'],
  ])('%s is the SQLite file %s', (url, path) => {
    expect(parseDatabaseUrl(url)).toEqual({ kind: 'sqlite', path });
  });

  it.each(['mongodb://user:pw@localhost:27017/gateway', 'mongodb+srv://cluster0.example.net/gateway', 'MONGODB://h/db'])(
    '%s is MongoDB',
    (url) => {
      expect(parseDatabaseUrl(url)).toEqual({ kind: 'mongodb', url });
    },
  );

  it.each([
    '',
    '   ',
    'postgres://user:secret@db/gateway',
    'mysql://db/gateway',
    'redis://127.0.0.1:6379',
    'https://example.com/db',
    'postgresql:gateway',
    'sqlite://host/path.db',
    'sqlite:',
    'sqlite:///',
    'file://remote-host/jobs.db',
  ])('%j is refused with invalid_database_url', (url) => {
    const e = errorOf(() => parseDatabaseUrl(url));
    expect(e.code).toBe('invalid_database_url');
    expect(e.status).toBe(500);
  });

  it('never echoes a password from the URL', () => {
    const e = errorOf(() => parseDatabaseUrl('postgres://user:hunter2@db/gateway'));
    expect(e.message).not.toContain('hunter2');
    expect(e.message).toContain('postgres:');
  });
});

describe('openJobStore', () => {
  it('routes a mongodb:// URL to the MongoDB adapter (an unreachable server fails with store_open_failed)', async () => {
    // Port 1 refuses at once; the URL's own serverSelectionTimeoutMS keeps the wait short.
    const url = 'mongodb://gateway:hunter2@127.0.0.1:1/gateway?serverSelectionTimeoutMS=200&retention_days=30';
    const error = await openJobStore(url).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'store_open_failed', status: 500 });
    expect(String((error as Error).message)).not.toContain('hunter2');
  });

  it('refuses a MongoDB URL with a bad retention_days before connecting', async () => {
    await expect(openJobStore('mongodb://127.0.0.1:1/gateway?retention_days=-1')).rejects.toMatchObject({
      code: 'invalid_database_url',
      message: expect.stringContaining('retention_days'),
    });
  });

  it('opens an initialised in-memory SQLite store', async () => {
    const store = await openJobStore(':memory:');
    try {
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });
});
