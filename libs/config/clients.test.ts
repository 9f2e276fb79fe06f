import { describe, expect, test } from 'vitest';
import type { GatewayConfig } from './types.ts';
import { clientCallbackAllowlist, clientLimits } from './clients.ts';

const config = (clients: GatewayConfig['rateLimits']['clients']) => ({ rateLimits: { clients } }) as unknown as GatewayConfig;

describe('clientLimits', () => {
  const both = config({ default: { rpm: 600, read_rpm: 1200 }, carol: { rpm: 3 } });

  test.each([
    ['carol', { rpm: 3 }],
    ['dave', { rpm: 600, read_rpm: 1200 }],
    // Names of Object.prototype members are clients like any other, never the prototype's values.
    ['constructor', { rpm: 600, read_rpm: 1200 }],
    ['toString', { rpm: 600, read_rpm: 1200 }],
    ['__proto__', { rpm: 600, read_rpm: 1200 }],
    ['hasOwnProperty', { rpm: 600, read_rpm: 1200 }],
  ])('%s gets %j', (clientId, expected) => expect(clientLimits(both, clientId)).toEqual(expected));

  test('no entry and no default: no limit', () => {
    expect(clientLimits(config({ carol: { rpm: 3 } }), 'constructor')).toBeUndefined();
    expect(clientLimits(config({}), 'dave')).toBeUndefined();
  });
});

describe('clientCallbackAllowlist', () => {
  test("a client's own hosts only; `default` and prototype names exempt no one", () => {
    const cfg = config({ default: { rpm: 1, callback_allowlist: ['everyone.test'] }, carol: { rpm: 1, callback_allowlist: ['carol.test'] } });
    expect(clientCallbackAllowlist(cfg, 'carol')).toEqual(['carol.test']);
    expect(clientCallbackAllowlist(cfg, 'dave')).toEqual([]);
    expect(clientCallbackAllowlist(cfg, 'constructor')).toEqual([]);
    expect(clientCallbackAllowlist(cfg, '__proto__')).toEqual([]);
  });
});
