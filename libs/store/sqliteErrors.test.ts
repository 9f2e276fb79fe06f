import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, test } from 'vitest';
import { classifySqliteError } from './sqliteErrors.ts';

/** An error shaped as node:sqlite throws them. */
const sqliteError = (errcode: number, message: string) => Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode, errstr: '' });

describe('classifySqliteError', () => {
  test.each([
    ['malformed JSON (a generated column over a document nested > 1000 deep)', sqliteError(1, 'malformed JSON'), 'refused'],
    ['JSON cannot hold BLOB values', sqliteError(1, 'JSON cannot hold BLOB values'), 'refused'],
    ['NOT NULL constraint (extended code 1299)', sqliteError(1299, 'NOT NULL constraint failed: jobs.client_id'), 'refused'],
    ['CHECK constraint (extended code 275)', sqliteError(275, 'CHECK constraint failed: rating'), 'refused'],
    ['string or blob too big', sqliteError(18, 'string or blob too big'), 'refused'],
    ['datatype mismatch', sqliteError(20, 'datatype mismatch'), 'refused'],
    ['a value node:sqlite cannot bind', Object.assign(new TypeError('Provided value cannot be bound to SQLite parameter 5.'), { code: 'ERR_INVALID_ARG_TYPE' }), 'refused'],
    ['a BigInt too large to bind', Object.assign(new TypeError('BigInt value is too large to bind.'), { code: 'ERR_INVALID_ARG_VALUE' }), 'refused'],
    ['SQLITE_BUSY', sqliteError(5, 'database is locked'), 'unavailable'],
    ['SQLITE_BUSY_SNAPSHOT (517)', sqliteError(517, 'database is locked'), 'unavailable'],
    ['SQLITE_LOCKED', sqliteError(6, 'database table is locked'), 'unavailable'],
    ['SQLITE_IOERR_WRITE (778)', sqliteError(778, 'disk I/O error'), 'unavailable'],
    ['SQLITE_FULL', sqliteError(13, 'database or disk is full'), 'unavailable'],
    ['SQLITE_READONLY', sqliteError(8, 'attempt to write a readonly database'), 'unavailable'],
    ['SQLITE_CANTOPEN', sqliteError(14, 'unable to open database file'), 'unavailable'],
    ['SQLITE_CORRUPT', sqliteError(11, 'database disk image is malformed'), 'unavailable'],
    ['a generic SQL error that is not about JSON', sqliteError(1, 'no such table: jobs'), 'unavailable'],
    ['a closed database', Object.assign(new Error('database is not open'), { code: 'ERR_INVALID_STATE' }), 'unavailable'],
    ['a store that is not ready', Object.assign(new Error('not open'), { code: 'store_not_ready' }), 'unavailable'],
    ['not an error at all', 'boom', 'unavailable'],
    ['null', null, 'unavailable'],
  ])('%s -> %s', (_name, error, kind) => {
    expect(classifySqliteError(error).kind).toBe(kind);
  });

  test('a refusal carries the store\'s own words', () => {
    expect(classifySqliteError(sqliteError(1, 'malformed JSON'))).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/^malformed JSON/) });
  });

  test('real node:sqlite errors: deep JSON under a generated column is refused, a held write lock is not', () => {
    const file = join(tmpdir(), `sqlite-errors-${randomUUID()}.sqlite`);
    const db = new DatabaseSync(file);
    const other = new DatabaseSync(file, { timeout: 0 });
    const thrown = (f: () => void): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('expected a throw');
    };
    try {
      db.exec(`CREATE TABLE t (doc TEXT NOT NULL, x TEXT GENERATED ALWAYS AS (json_extract(doc, '$.x')) VIRTUAL); CREATE INDEX t_x ON t (x)`);
      const deep = '{"a":'.repeat(1100) + '1' + '}'.repeat(1100);
      expect(classifySqliteError(thrown(() => db.prepare('INSERT INTO t (doc) VALUES (?)').run(deep)))).toMatchObject({ kind: 'refused' });
      db.exec('BEGIN IMMEDIATE');
      expect(classifySqliteError(thrown(() => other.prepare('INSERT INTO t (doc) VALUES (?)').run('{}')))).toEqual({ kind: 'unavailable' });
      db.exec('ROLLBACK');
    } finally {
      other.close();
      db.close();
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
    }
  });
});
