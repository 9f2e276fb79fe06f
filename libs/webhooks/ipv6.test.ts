import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { embeddedIPv4, formatIPv6, parseIPv6, parseIPv4 } from './ipv6.ts';

const full = (text: string) => {
  const bytes = parseIPv6(text);
  return bytes ? formatIPv6(bytes) : null;
};

describe('parseIPv6', () => {
  test.each([
    ['::', '0:0:0:0:0:0:0:0'],
    ['::1', '0:0:0:0:0:0:0:1'],
    ['1::', '1:0:0:0:0:0:0:0'],
    ['2002:7f00:1::', '2002:7f00:1:0:0:0:0:0'],
    ['2001:DB8::8:800:200C:417A', '2001:db8:0:0:8:800:200c:417a'],
    ['0000:0000:0000:0000:0000:ffff:7f00:0001', '0:0:0:0:0:ffff:7f00:1'],
    ['::ffff:127.0.0.1', '0:0:0:0:0:ffff:7f00:1'],
    ['::127.0.0.1', '0:0:0:0:0:0:7f00:1'],
    ['64:ff9b::169.254.169.254', '64:ff9b:0:0:0:0:a9fe:a9fe'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['fe80::1%eth0', 'fe80:0:0:0:0:0:0:1'],
  ])('%s is %s', (text, expected) => expect(full(text)).toBe(expected));

  test.each([
    '', ':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
    '12345::', 'g::', '[::1]', '::1.2.3', '::1.2.3.256', '::01.2.3.4', '1.2.3.4::', '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4',
    '%eth0', ':1::', '1::2:', '127.0.0.1',
  ])('%j is not an IPv6 address', (text) => expect(parseIPv6(text)).toBeNull());

  // Fixed seeds keep the suite deterministic; 600,000 cases of each ran clean once with random seeds.
  test('round-trips any 16 bytes, in full and in the URL parser\'s compressed spelling', () => {
    const bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(bytes, (b) => {
        const canonical = new URL(`http://[${formatIPv6(b)}]/`).hostname.slice(1, -1);
        expect(parseIPv6(formatIPv6(b))).toEqual(b);
        expect(parseIPv6(canonical)).toEqual(b);
      }),
      { numRuns: 2000, seed: 8 },
    );
  });

  test('agrees with node:net on what is an IPv6 address', () => {
    // Near-addresses: hex groups, colons, dotted quads and zones glued in any order.
    const piece = fc.oneof(fc.constantFrom(':', '::', '.', '%eth0', '0', 'ffff'), fc.stringMatching(/^[0-9a-fA-F]{1,5}$/), fc.ipV4());
    const nearly = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    fc.assert(fc.property(nearly, (text) => (parseIPv6(text) !== null) === isIPv6(text)), { numRuns: 10000, seed: 8 });
  });
});

describe('parseIPv4', () => {
  test('takes strict dotted quads only', () => {
    expect(parseIPv4('169.254.169.254')).toEqual([169, 254, 169, 254]);
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.0.0.0', '1.2.3.x', '']) expect(parseIPv4(bad)).toBeNull();
  });
});

describe('embeddedIPv4', () => {
  const decode = (text: string) => embeddedIPv4(parseIPv6(text)!);
  test.each([
    ['::ffff:127.0.0.1', [{ form: 'mapped', ipv4: '127.0.0.1' }]],
    ['::ffff:a9fe:a9fe', [{ form: 'mapped', ipv4: '169.254.169.254' }]],
    ['::ffff:0:10.1.2.3', [{ form: 'translated', ipv4: '10.1.2.3' }]],
    ['::10.1.2.3', [{ form: 'compatible', ipv4: '10.1.2.3' }]],
    ['64:ff9b::a9fe:a9fe', [{ form: 'nat64', ipv4: '169.254.169.254' }]],
    ['64:ff9b::8.8.8.8', [{ form: 'nat64', ipv4: '8.8.8.8' }]],
    ['2002:7f00:1::', [{ form: '6to4', ipv4: '127.0.0.1' }]],
    ['2002:a9fe:a9fe::', [{ form: '6to4', ipv4: '169.254.169.254' }]],
    ['2002:c000:0204::1', [{ form: '6to4', ipv4: '192.0.2.4' }]],
    // The textbook Teredo address: server 65.54.227.120, client 192.0.2.45 (stored inverted).
    [
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      [
        { form: 'teredo-server', ipv4: '65.54.227.120' },
        { form: 'teredo-client', ipv4: '192.0.2.45' },
      ],
    ],
    [
      '2001:0:808:808:8000:63bf:80ff:fffe',
      [
        { form: 'teredo-server', ipv4: '8.8.8.8' },
        { form: 'teredo-client', ipv4: '127.0.0.1' },
      ],
    ],
    ['2606:4700::5efe:a9fe:a9fe', [{ form: 'isatap', ipv4: '169.254.169.254' }]],
    ['2606:4700::200:5efe:10.0.0.1', [{ form: 'isatap', ipv4: '10.0.0.1' }]],
    ['2606:4700::300:5efe:7f00:1', [{ form: 'isatap', ipv4: '127.0.0.1' }]],
    ['2606:4700::1111', []],
    ['2606:4700::400:5efe:7f00:1', []], // not a modified EUI-64 ISATAP id
    ['2001:db8::1', []],
  ])('%s embeds %j', (text, expected) => expect(decode(text)).toEqual(expected));

  test('an ISATAP id after a 6to4 prefix yields both', () => {
    expect(decode('2002:0808:0808::5efe:7f00:1').map((e) => e.form)).toEqual(['6to4', 'isatap']);
  });

  test('refuses anything but 16 bytes', () => {
    expect(() => embeddedIPv4(new Uint8Array(4))).toThrow(RangeError);
  });
});
