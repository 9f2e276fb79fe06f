/**
 * Reads a failed SQLite write: did SQLite refuse the record itself, or is the database unavailable?
 * Pure, so every case is a line in a table test.
 */
import type { StoreFailure } from './types.ts';

// Primary result codes (the low byte of an extended code, e.g. 1299 NOT NULL -> 19 CONSTRAINT)
// that are about the row being written rather than the database.
const REFUSING_CODES: Record<number, string> = {
  18: 'a value is larger than SQLite allows', // SQLITE_TOOBIG
  19: 'a constraint failed', // SQLITE_CONSTRAINT
  20: 'a value has the wrong type', // SQLITE_MISMATCH
};

// SQLITE_ERROR (1) is generic; of its messages only the JSON functions' are about the row: a
// generated column over json_extract fails this way for a document nested deeper than 1000 levels.
const JSON_MESSAGE = /\bJSON\b/i;

// node:sqlite refuses to bind a value it cannot store (an object, a BigInt past 64 bits) before
// SQLite sees it.
const BIND_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);

/**
 * Classifies an error thrown while writing one record: `refused` for what only this record causes
 * (malformed or too deeply nested JSON, a constraint, a value too big or of the wrong type, one
 * node:sqlite cannot bind); `unavailable` for everything else (SQLITE_BUSY, LOCKED, IOERR, FULL,
 * READONLY, a closed store...), which a later try may cure. Unknown errors count as unavailable:
 * retrying a good record is cheaper than failing it for good.
 */
export function classifySqliteError(e: unknown): StoreFailure {
  if (typeof e !== 'object' || e === null) return { kind: 'unavailable' };
  const { code, errcode, message } = e as { code?: unknown; errcode?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (typeof code === 'string' && BIND_CODES.has(code)) return { kind: 'refused', reason: text || 'a value SQLite cannot store' };
  if (code !== 'ERR_SQLITE_ERROR' || typeof errcode !== 'number') return { kind: 'unavailable' };
  const primary = errcode & 0xff;
  if (REFUSING_CODES[primary]) return { kind: 'refused', reason: text || REFUSING_CODES[primary] };
  if (primary === 1 && JSON_MESSAGE.test(text)) return { kind: 'refused', reason: `${text} (JSON nested deeper than 1000 levels, or not valid JSON)` };
  return { kind: 'unavailable' };
}
