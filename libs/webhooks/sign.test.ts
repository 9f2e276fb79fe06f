import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { decodeSecret, signPayload, verifySignature } from './sign.ts';

const secretA = `whsec_${randomBytes(24).toString('base64')}`;
const secretB = `whsec_${randomBytes(32).toString('base64')}`;
const body = JSON.stringify({ type: 'job.completed', timestamp: '2025-01-01T00:00:00.000Z', data: { id: 'j1', result: { text: 'héllo' } } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('signPayload', () => {
  test('the independent standardwebhooks package verifies our signature', () => {
    const headers = signPayload({ id: 'msg_j1', timestampSeconds: nowSeconds(), body, secrets: [secretA] });
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secretA).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  test('during rotation both secrets verify, each on its own', () => {
    const headers = signPayload({ id: 'msg_j1', timestampSeconds: nowSeconds(), body, secrets: [secretA, secretB] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(secretA).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(secretB).verify(body, { ...headers })).not.toThrow();
    const stranger = `whsec_${randomBytes(24).toString('base64')}`;
    expect(() => new Webhook(stranger).verify(body, { ...headers })).toThrow();
  });

  test('matches the reference signer byte for byte', () => {
    const at = new Date(1_700_000_000_000);
    const ours = signPayload({ id: 'msg_x', timestampSeconds: at.getTime() / 1000, body, secrets: [secretA] });
    expect(ours['webhook-signature']).toBe(new Webhook(secretA).sign('msg_x', at, body));
    expect(ours['webhook-timestamp']).toBe('1700000000');
  });

  test('refuses to sign without a secret, and names a malformed one', () => {
    expect(() => signPayload({ id: 'm', timestampSeconds: 1, body, secrets: [] })).toThrow(expect.objectContaining({ code: 'webhook_secret_missing' }));
    expect(() => decodeSecret('whsec_')).toThrow(expect.objectContaining({ code: 'webhook_secret_invalid' }));
    expect(() => decodeSecret('whsec_not base64!')).toThrow(expect.objectContaining({ code: 'webhook_secret_invalid' }));
  });
});

describe('verifySignature', () => {
  const now = 1_700_000_000;
  const headers = signPayload({ id: 'msg_j1', timestampSeconds: now, body, secrets: [secretA, secretB] });

  test('accepts a signature made with either secret, with header names in any case', () => {
    expect(verifySignature({ headers, body, secrets: [secretB], nowSeconds: now })).toBe(true);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifySignature({ headers: upper, body, secrets: [secretA], nowSeconds: now + 299 })).toBe(true);
  });

  test('refuses a changed body, a foreign secret, a stale or future timestamp', () => {
    expect(verifySignature({ headers, body: `${body} `, secrets: [secretA], nowSeconds: now })).toBe(false);
    expect(verifySignature({ headers, body, secrets: [`whsec_${randomBytes(24).toString('base64')}`], nowSeconds: now })).toBe(false);
    expect(verifySignature({ headers, body, secrets: [secretA], nowSeconds: now + 301 })).toBe(false);
    expect(verifySignature({ headers, body, secrets: [secretA], nowSeconds: now - 301 })).toBe(false);
    expect(verifySignature({ headers: { ...headers, 'webhook-id': 'msg_other' }, body, secrets: [secretA], nowSeconds: now })).toBe(false);
  });

  test('verifies what the reference signer produced', () => {
    const sig = new Webhook(secretA).sign('msg_ref', new Date(now * 1000), body);
    const ref = { 'webhook-id': 'msg_ref', 'webhook-timestamp': String(now), 'webhook-signature': sig };
    expect(verifySignature({ headers: ref, body, secrets: [secretA], nowSeconds: now })).toBe(true);
  });
});
