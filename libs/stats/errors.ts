/**
 * The statistics library refuses impossible inputs (negative counts, a share that does not sum
 * to one) with a typed error rather than answering NaN, so a report shows what was wrong.
 */
import { GatewayError } from '../errors/index.ts';

/** Stable code of every input error the statistics functions throw. */
export const STATS_INVALID_INPUT = 'stats_invalid_input';

/** A GatewayError with code `stats_invalid_input` (status 500: a caller bug, not a client's). */
export function invalidInput(message: string): GatewayError {
  return new GatewayError(STATS_INVALID_INPUT, message);
}

/** Throws unless `n` is a finite integer >= 0 (a count). */
export function assertCount(n: number, name: string): void {
  if (!Number.isInteger(n) || n < 0) throw invalidInput(`${name} must be a non-negative integer, got ${n}`);
}

/** Throws unless 0 < x < 1 (a level such as alpha, power or confidence). */
export function assertOpenUnit(x: number, name: string): void {
  if (!(x > 0 && x < 1)) throw invalidInput(`${name} must be strictly between 0 and 1, got ${x}`);
}
