/**
 * The job ids the API issues. Only these may reach Redis or the store: any other string in a URL
 * could name one of BullMQ's own keys (`events`, `wait`, `id`, …) instead of a job.
 */

/** A random job id as submitJob issues it: a lowercase UUID v4 (crypto.randomUUID). */
const RANDOM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The prefix of a job id derived from an Idempotency-Key; 32 lowercase hex digits follow. */
export const IDEMPOTENT_ID_PREFIX = 'idem-';
const IDEMPOTENT_ID = new RegExp(`^${IDEMPOTENT_ID_PREFIX}[0-9a-f]{32}$`);

/** True for a string the API could have issued as a job id (random or idempotent); false for anything else. */
export function isIssuedJobId(id: string): boolean {
  return RANDOM_ID.test(id) || IDEMPOTENT_ID.test(id);
}
