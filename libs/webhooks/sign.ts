/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64-decoded part of a `whsec_` secret, sent as
 * `v1,<base64>`; several signatures, space-separated, while a client rotates its secret.
 * Pure functions, no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors/index.ts';

/** The three headers of a signed webhook. (A type alias, so it fits a plain header record.) */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** What signPayload signs. */
export interface SignInput {
  /** The `webhook-id`: stable across attempts of one message. */
  id: string;
  /** Unix time of the attempt, in seconds. */
  timestampSeconds: number;
  /** The exact body bytes sent, as a string. */
  body: string;
  /** `whsec_<base64>` secrets; one signature each (two during rotation). */
  secrets: readonly string[];
}

/** Seconds a webhook-timestamp may differ from now before verifySignature refuses it. Default 300. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';

/** Signs one attempt. Throws GatewayError `webhook_secret_missing` with no secret, `webhook_secret_invalid` for a bad one. */
export function signPayload(input: SignInput): WebhookHeaders {
  if (input.secrets.length === 0) {
    throw new GatewayError('webhook_secret_missing', 'No webhook secret is configured for this client; set it in GATEWAY_WEBHOOK_SECRETS.', { status: 500 });
  }
  const timestamp = String(Math.floor(input.timestampSeconds));
  const signatures = input.secrets.map((s) => `v1,${hmac(decodeSecret(s), input.id, timestamp, input.body).toString('base64')}`);
  return { 'webhook-id': input.id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}

/** What verifySignature checks. Header names are matched case-insensitively. */
export interface VerifyInput {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  secrets: readonly string[];
  /** Unix time now, in seconds. Default: the clock. */
  nowSeconds?: number;
  /** Allowed clock difference in seconds. Default 300. */
  toleranceSeconds?: number;
}

/**
 * True when one of the `v1` signatures matches one of the secrets and the timestamp is within the
 * tolerance. Comparisons take constant time so a caller cannot learn a signature byte by byte.
 */
export function verifySignature(input: VerifyInput): boolean {
  const header = (name: keyof WebhookHeaders): string | undefined => {
    const entry = Object.entries(input.headers).find(([k]) => k.toLowerCase() === name)?.[1];
    return Array.isArray(entry) ? entry[0] : entry;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signature = header('webhook-signature');
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const now = input.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - Number(timestamp)) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;

  const offered = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  let ok = false;
  for (const secret of input.secrets) {
    const expected = hmac(decodeSecret(secret), id, timestamp, input.body);
    // No early exit: the time taken does not depend on which signature matched.
    for (const sig of offered) ok = (sig.length === expected.length && timingSafeEqual(sig, expected)) || ok;
  }
  return ok;
}

/** Key bytes of a `whsec_<base64>` secret. Throws GatewayError `webhook_secret_invalid`. */
export function decodeSecret(secret: string): Buffer {
  const raw = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(raw, 'base64');
  if (raw === '' || key.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) {
    throw new GatewayError('webhook_secret_invalid', 'A webhook secret must be whsec_ followed by base64 key bytes.', { status: 500 });
  }
  return key;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
}
