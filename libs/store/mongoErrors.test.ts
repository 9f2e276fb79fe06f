import mongoose from 'mongoose';
import { describe, expect, test } from 'vitest';
import { classifyMongoError, mongoWriteError } from './mongoErrors.ts';
import { isRecordRefused } from './types.ts';

const { BSON, MongoBulkWriteError, MongoInvalidArgumentError, MongoNetworkError, MongoNetworkTimeoutError, MongoServerError, MongoServerSelectionError } = mongoose.mongo;

const serverError = (code: number, message = `server error ${code}`, extra: Record<string, unknown> = {}) => new MongoServerError({ message, code, ...extra });
const writeError = (index: number, code: number) => ({ err: { index, code, errmsg: `code ${code}` }, get index() { return index; }, get code() { return code; } });
const bulkError = (writeErrors: unknown[], extra: Record<string, unknown> = {}) =>
  new MongoBulkWriteError({ message: 'bulk write failed', code: (writeErrors[0] as { code?: number } | undefined)?.code, writeErrors, ...extra } as never, {} as never);
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};
const circular: Record<string, unknown> = {};
circular.self = circular;
const validation = new mongoose.Error.ValidationError();
validation.addError('status', new mongoose.Error.CastError('String', { a: 1 }, 'status'));
const bulkValidation = Object.assign(new Error('bulkWrite failed with 1 Mongoose validation errors'), { name: 'MongooseBulkWriteError', results: [null, validation, null] });

describe('classifyMongoError', () => {
  test.each([
    ['a BSON serialization error (circular document)', thrown(() => BSON.serialize(circular)), 'refused'],
    ['a stack overflow while serializing', new RangeError('Maximum call stack size exceeded'), 'refused'],
    ['a document over 16 MB (driver check)', new MongoInvalidArgumentError('Document is larger than the maximum size 16777216'), 'refused'],
    ['top-level $ keys in a replacement', new MongoInvalidArgumentError('Replacement document must not contain atomic operators'), 'refused'],
    ['BSONObjectTooLarge (10334)', serverError(10334, 'object to insert too large'), 'refused'],
    ['nested past the server depth (InvalidBSON 22)', serverError(22, 'BSONObj exceeded maximum nested object depth: 200'), 'refused'],
    ['Overflow (15)', serverError(15), 'refused'],
    ['DollarPrefixedFieldName (52)', serverError(52, "The dollar ($) prefixed field '$where' is not valid"), 'refused'],
    ['DottedFieldName (57)', serverError(57), 'refused'],
    // About the operation or the collection as often as the document: retry rather than fail every job for good.
    ['BadValue (2) at the top level', serverError(2), 'unavailable'],
    ['DocumentValidationFailure (121) at the top level', serverError(121), 'unavailable'],
    ['DocumentValidationFailure (121) of one document of a bulk write', bulkError([writeError(4, 121)]), 'refused'],
    ['a mongoose ValidationError', validation, 'refused'],
    ['a bulk write whose failures are all refusals', bulkError([writeError(3, 10334), writeError(7, 52)]), 'refused'],
    ['a mongoose bulk write with validation errors only', bulkValidation, 'refused'],
    ['a network error', new MongoNetworkError('connection reset'), 'unavailable'],
    ['a network timeout', new MongoNetworkTimeoutError('timed out'), 'unavailable'],
    ['no server selectable', new MongoServerSelectionError('Server selection timed out', { type: 'Unknown', servers: new Map(), stale: false, compatible: true, heartbeatFrequencyMS: 10000, localThresholdMS: 15, logicalSessionTimeoutMinutes: null } as never), 'unavailable'],
    ['NotWritablePrimary (10107)', serverError(10107, 'not primary'), 'unavailable'],
    ['a refusing code labelled retryable', serverError(2, 'weird', { errorLabels: ['RetryableWriteError'] }), 'unavailable'],
    ['a duplicate key from a racing upsert (11000)', serverError(11000, 'E11000 duplicate key'), 'unavailable'],
    ['a bulk write with a refusal and a duplicate key', bulkError([writeError(1, 10334), writeError(2, 11000)]), 'unavailable'],
    ['a bulk write with a write concern error', bulkError([], { writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' } }), 'unavailable'],
    ['MongoInvalidArgumentError about options', new MongoInvalidArgumentError('Option "w" must be a number'), 'unavailable'],
    ['a store that is not ready', Object.assign(new Error('not open'), { code: 'store_not_ready' }), 'unavailable'],
    ['not an error at all', 42, 'unavailable'],
  ])('%s -> %s', (_name, error, kind) => {
    expect(classifyMongoError(error).kind).toBe(kind);
  });

  test('bulk refusals carry the refused positions of the batch', () => {
    expect(classifyMongoError(bulkError([writeError(3, 10334), writeError(7, 52)]))).toMatchObject({ kind: 'refused', indexes: [3, 7] });
    expect(classifyMongoError(bulkValidation)).toMatchObject({ kind: 'refused', indexes: [1] });
  });
});

describe('mongoWriteError', () => {
  const ids = ['a', 'b', 'c', 'd'];

  test('names the refused records of a batch by position', () => {
    const e = mongoWriteError(bulkError([writeError(1, 10334), writeError(3, 57)]), ids);
    expect(isRecordRefused(e)).toBe(true);
    expect(e).toMatchObject({ code: 'record_refused', recordIds: ['b', 'd'] });
  });

  test('names the only record of a single write, and nobody when a batch failed as a whole', () => {
    expect(mongoWriteError(serverError(10334), ['a'])).toMatchObject({ recordIds: ['a'] });
    expect(mongoWriteError(new RangeError('Maximum call stack size exceeded'), ids)).toMatchObject({ code: 'record_refused', recordIds: [] });
  });

  test('answers an unavailable server\'s error unchanged', () => {
    const network = new MongoNetworkError('connection reset');
    expect(mongoWriteError(network, ids)).toBe(network);
  });
});
