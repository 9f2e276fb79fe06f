/**
 * Reads a failed MongoDB write: did MongoDB (or the driver, or mongoose) refuse the records
 * themselves, or is the server unavailable? Pure, over the errors' documented fields (name, code,
 * writeErrors, errorLabels), so every case is a line in a table test without a server.
 */
import { RecordRefusedError, type StoreFailure } from './types.ts';

/**
 * Server error codes about the document being written: BadValue (2), TypeMismatch (14),
 * Overflow (15), InvalidBSON (22, nested past the server's depth), DollarPrefixedFieldName (52),
 * InvalidIdField (53), InvalidDBRef (55), EmptyFieldName (56), DottedFieldName (57),
 * DocumentValidationFailure (121), BSONObjectTooLarge (10334, over 16 MB), and the older
 * "document too large after update" codes 17419 and 17420.
 */
export const MONGO_REFUSING_CODES: ReadonlySet<number> = new Set([2, 14, 15, 22, 52, 53, 55, 56, 57, 121, 10334, 17419, 17420]);

/**
 * The codes that name a document even on a top-level error. BadValue (2), TypeMismatch (14) and
 * DocumentValidationFailure (121) may also be about the operation or the collection (a bad write
 * concern, a validator just added): at the top level they would fail every job for good, so they
 * count as refusals only inside a bulk write's per-document writeErrors.
 */
export const MONGO_DOCUMENT_CODES: ReadonlySet<number> = new Set([15, 22, 52, 53, 55, 56, 57, 10334, 17419, 17420]);

// The driver checks these before sending: a document over the size limit, top-level `$` keys.
const DRIVER_REFUSAL = /larger than the maximum size|must not contain atomic operators|must not (start with|contain)/i;

// Labels the driver puts on errors that a retry can cure.
const TRANSIENT_LABELS = ['RetryableWriteError', 'TransientTransactionError', 'NetworkError', 'ResetPool'];

interface WriteErrorLike {
  name?: unknown;
  code?: unknown;
  index?: unknown;
  err?: { index?: unknown; code?: unknown };
}

/**
 * Classifies an error thrown by a replaceOne or bulkWrite of job documents: `refused` for BSON
 * serialization errors, documents nested too deeply or over 16 MB, `$` or `.` keys the server
 * refuses, mongoose validation errors, and bulk write errors that are all of these (with the
 * refused `indexes` of the batch when known); `unavailable` for network errors, timeouts, server
 * selection, write concern and everything unknown (retrying a good record is cheaper than failing it).
 */
export function classifyMongoError(e: unknown): StoreFailure {
  if (typeof e !== 'object' || e === null) return { kind: 'unavailable' };
  const error = e as { name?: unknown; message?: unknown; code?: unknown; errorLabels?: unknown; writeConcernError?: unknown; writeErrors?: unknown; results?: unknown };
  const name = typeof error.name === 'string' ? error.name : '';
  const message = typeof error.message === 'string' ? error.message : '';
  const labels = Array.isArray(error.errorLabels) ? error.errorLabels : [];
  if (labels.some((l) => TRANSIENT_LABELS.includes(String(l)))) return { kind: 'unavailable' };
  if (name === 'BSONError') return { kind: 'refused', reason: `cannot be serialized as BSON: ${message}` };
  // The BSON serializer recurses: a document deep enough overflows the stack before any limit check.
  if (e instanceof RangeError) return { kind: 'refused', reason: `cannot be serialized as BSON: ${message}` };
  if (name === 'MongoInvalidArgumentError' && DRIVER_REFUSAL.test(message)) return { kind: 'refused', reason: message };
  if (name === 'ValidationError' || name === 'CastError') return { kind: 'refused', reason: message };
  if (name === 'MongooseBulkWriteError') {
    // One entry per operation: the validation or write error that stopped it, or null once written.
    const results = Array.isArray(error.results) ? (error.results as Array<WriteErrorLike | null | undefined>) : [];
    const failures = results.flatMap((failure, index) => (failure ? [{ index, failure }] : []));
    return bulkRefusal(failures, message);
  }
  if (error.writeConcernError) return { kind: 'unavailable' };
  const writeErrors = Array.isArray(error.writeErrors) ? (error.writeErrors as WriteErrorLike[]) : [];
  if (writeErrors.length > 0) return bulkRefusal(writeErrors.map((failure) => ({ index: writeIndex(failure), failure })), message);
  if (typeof error.code === 'number' && MONGO_DOCUMENT_CODES.has(error.code)) return { kind: 'refused', reason: message };
  return { kind: 'unavailable' };
}

/**
 * Refused only when every failed operation of the batch was refused for its document; one that
 * failed otherwise (a duplicate key from a racing upsert, a shutdown) makes the batch retryable.
 */
function bulkRefusal(failures: ReadonlyArray<{ index: number | undefined; failure: WriteErrorLike }>, message: string): StoreFailure {
  if (!failures.every((f) => refusesDocument(f.failure))) return { kind: 'unavailable' };
  const indexes = failures.map((f) => f.index).filter((i) => i !== undefined);
  return { kind: 'refused', reason: message, indexes };
}

function refusesDocument(failure: WriteErrorLike): boolean {
  if (failure.name === 'ValidationError' || failure.name === 'CastError') return true;
  const code = failure.code ?? failure.err?.code;
  return typeof code === 'number' && MONGO_REFUSING_CODES.has(code);
}

function writeIndex(w: WriteErrorLike): number | undefined {
  const index = w.index ?? w.err?.index;
  return typeof index === 'number' ? index : undefined;
}

/**
 * The error to throw for a failed write of `ids` (in batch order): a RecordRefusedError naming the
 * refused records (all of them for a single record; none when a batch's culprit is unknown), or
 * the original error when the server is unavailable.
 */
export function mongoWriteError(e: unknown, ids: readonly string[]): unknown {
  const failure = classifyMongoError(e);
  if (failure.kind === 'unavailable') return e;
  const named = failure.indexes?.length ? failure.indexes.map((i) => ids[i]).filter((id) => id !== undefined) : ids.length === 1 ? ids : [];
  return new RecordRefusedError(named, failure.reason || 'refused by MongoDB', { cause: e });
}
