import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/client.ts';
import { GatewayError } from '../errors/index.ts';
import { IDEMPOTENT_ID_PREFIX } from './jobId.ts';

/** How long an Idempotency-Key is remembered, in milliseconds. Default 24 h. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

/** JSON with object keys sorted, so equal bodies give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of a body's canonical JSON. */
export function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url');
}

/** The job id an Idempotency-Key maps to: the same for the same client and key, on every API process. */
export function idempotentJobId(clientId: string, key: string): string {
  return `${IDEMPOTENT_ID_PREFIX}${createHash('sha256').update(`${clientId}\n${key}`).digest('hex').slice(0, 32)}`;
}

/** Checks the header value; throws `invalid_idempotency_key` (400) when unusable. */
export function validateIdempotencyKey(key: string): string {
  if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new GatewayError('invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters (a UUID is ideal).', {
      status: 400,
    });
  }
  return key;
}

/** The Redis key of the claim of the Idempotency-Key whose job is `jobId`. */
export const idempotencyClaimKey = (prefix: string, jobId: string): string => `${prefix}:idem:${jobId}`;

/** GatewayError `idempotency_key_reused` (409): the key was used before with another body. */
export const idempotencyKeyReused = () =>
  new GatewayError('idempotency_key_reused', 'This Idempotency-Key was already used with a different body; use a new key for a new request.', {
    status: 409,
  });

/**
 * Claims `key` for this body. Answers `{ fresh: true }` when the key is new (enqueue the job),
 * `{ fresh: false }` when the same body was already submitted under it (answer with the same job),
 * and throws `idempotency_key_reused` (409) when the key was used with another body. `fingerprint`
 * is the body's (fingerprint()).
 */
export async function claimIdempotencyKey(
  redis: RedisClient,
  prefix: string,
  clientId: string,
  key: string,
  body: unknown,
): Promise<{ fresh: boolean; jobId: string; fingerprint: string }> {
  const jobId = idempotentJobId(clientId, key);
  const print = fingerprint(body);
  const redisKey = idempotencyClaimKey(prefix, jobId);
  const claimed = await redis.set(redisKey, print, 'PX', IDEMPOTENCY_TTL_MS, 'NX');
  if (claimed === 'OK') return { fresh: true, jobId, fingerprint: print };
  const existing = await redis.get(redisKey);
  if (existing === null) {
    // Expired between the two calls: claim it again.
    return claimIdempotencyKey(redis, prefix, clientId, key, body);
  }
  if (existing !== print) throw idempotencyKeyReused();
  return { fresh: false, jobId, fingerprint: print };
}

/**
 * Sets the claim of job `jobId` to `print`, the fingerprint the result store holds for it: Redis
 * lost the claim (a restart without persistence) and a retry with another body just took it.
 */
export async function restoreIdempotencyClaim(redis: RedisClient, prefix: string, jobId: string, print: string): Promise<void> {
  await redis.set(idempotencyClaimKey(prefix, jobId), print, 'PX', IDEMPOTENCY_TTL_MS);
}

/** Forgets a claim whose job could not be enqueued, so that the client's retry with the same key enqueues it. */
export async function releaseIdempotencyKey(redis: RedisClient, prefix: string, jobId: string): Promise<void> {
  await redis.del(idempotencyClaimKey(prefix, jobId));
}
