import { describe, expect, test } from 'vitest';
import { duplicateKeyIndexes } from './mongo.ts';

describe('duplicateKeyIndexes (a bulk upsert that met terminal records)', () => {
  test.each([
    ['a list of duplicate keys', { writeErrors: [{ code: 11000, index: 0 }, { code: 11000, index: 3 }] }, [0, 3]],
    ['one write error, not a list', { writeErrors: { code: 11000, index: 2 } }, [2]],
    ['the driver nesting code and index under err', { writeErrors: [{ err: { code: 11000, index: 1 } }] }, [1]],
    ['a duplicate key beside a refused document', { writeErrors: [{ code: 11000, index: 0 }, { code: 22, index: 1 }] }, null],
    ['a write concern error', { writeErrors: [{ code: 11000, index: 0 }], writeConcernError: { code: 64 } }, null],
    ['a duplicate key without an index', { writeErrors: [{ code: 11000 }] }, null],
    ['no write errors at all', { code: 11000 }, null],
    ['a network error', new Error('connection reset'), null],
    ['not an object', 'boom', null],
  ])('%s', (_name, error, expected) => {
    expect(duplicateKeyIndexes(error)).toEqual(expected);
  });
});
