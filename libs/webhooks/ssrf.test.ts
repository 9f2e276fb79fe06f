import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { isIP } from 'node:net';
import { checkCallbackUrl, guardedLookup, isForbiddenAddress, parseCallbackUrl, type LookupAll } from './ssrf.ts';

const resolver = (table: Record<string, string[]>) => async (host: string) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};
const publicDns = resolver({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
const check = (url: string, allowlist: string[] = [], resolve = publicDns) => checkCallbackUrl(url, { allowlist, resolve });
const code = (c: string) => expect.objectContaining({ code: c, status: 400 });

describe('isForbiddenAddress', () => {
  test.each([
    '127.0.0.1', '127.255.1.2', '::1', '[::1]', '10.0.0.1', '10.255.255.254', '172.16.0.1', '172.31.255.255', '192.168.1.1',
    '169.254.169.254', '169.254.0.1', 'fd00:ec2::254', 'fe80::1', 'fc00::1', '0.0.0.0', '::', '100.64.0.1', '100.127.255.255',
    '224.0.0.1', '255.255.255.255', 'ff02::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '::ffff:10.1.2.3', '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.1', '192.0.2.1', 'not-an-ip', '',
    // Every IPv6 form that embeds a forbidden IPv4 address.
    '0:0:0:0:0:ffff:7f00:0001', '::ffff:0:127.0.0.1', '::ffff:0:a9fe:a9fe', '::10.0.0.1', '::8.8.8.8',
    '2002:7f00:1::', '2002:a9fe:a9fe::', '2002:0a00:0001::1', '2002:c0a8:0101:1::1', '2002:ac10::',
    '64:ff9b:1::a9fe:a9fe', '64:ff9b:1:2::', // local-use NAT64, refused whole
    '2606:4700::5efe:a9fe:a9fe', '2606:4700::200:5efe:127.0.0.1', '2a00:1450::0:5efe:10.1.2.3',
    // Teredo: refused whole (a relay forwards to the client), even with public addresses inside.
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:0:808:808:8000:63bf:80ff:fffe', '2001::', '2001:0:ffff::',
    'fe80::1%eth0', 'fe80::1%', '::1%lo',
  ])('%s is forbidden', (ip) => expect(isForbiddenAddress(ip)).toBe(true));

  test.each([
    '93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808',
    '::ffff:0:8.8.8.8', '2002:808:808::1', '2606:4700::5efe:808:808', '2a00:1450:4001:82a::200e',
  ])(
    '%s is allowed',
    (ip) => expect(isForbiddenAddress(ip)).toBe(false),
  );
});

describe('checkCallbackUrl', () => {
  test('accepts a public https URL whose every address is public', async () => {
    await expect(check('https://hooks.example.com/career?x=1')).resolves.toBeUndefined();
  });

  test.each([
    'https://127.0.0.1/hook',
    'https://[::1]/hook',
    'https://[::1]:8443/hook',
    'https://10.0.0.1/hook',
    'https://10.20.30.40/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::ffff:127.0.0.1]/hook',
    'https://0x7f.1/hook', // the URL parser normalises odd IPv4 spellings to 127.0.0.1
    'https://2130706433/hook',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://[2002:7f00:1::]/',
    'https://[2002:a9fe:a9fe::]/',
    'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'https://[64:ff9b::7f00:1]/hook',
    'https://[::ffff:0:169.254.169.254]/',
    'https://[fe80::5efe:a9fe:a9fe]/',
    'https://[2606:4700::200:5efe:7f00:1]:8443/',
  ])('refuses %s', async (url) => {
    await expect(check(url)).rejects.toThrow(code('callback_url_forbidden'));
  });

  test('refuses a name that resolves to a forbidden address, even if only one of several', async () => {
    const dns = resolver({
      'loop.example.com': ['127.0.0.1'],
      'v6loop.example.com': ['::1'],
      'inside.example.com': ['10.1.2.3'],
      'meta.example.com': ['169.254.169.254'],
      'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
      '6to4.example.com': ['2002:a9fe:a9fe::1'],
      'teredo.example.com': ['2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    });
    for (const host of ['loop', 'v6loop', 'inside', 'meta', 'mixed', '6to4', 'teredo']) {
      await expect(check(`https://${host}.example.com/hook`, [], dns)).rejects.toThrow(code('callback_url_forbidden'));
    }
  });

  test('refuses http://, credentials, non-URLs, other schemes and unresolvable hosts', async () => {
    await expect(check('http://hooks.example.com/hook')).rejects.toThrow(code('callback_url_insecure'));
    await expect(check('https://user:pw@hooks.example.com/hook')).rejects.toThrow(code('callback_url_invalid'));
    await expect(check('not a url')).rejects.toThrow(code('callback_url_invalid'));
    await expect(check('ftp://hooks.example.com/')).rejects.toThrow(code('callback_url_invalid'));
    await expect(check(`https://hooks.example.com/${'a'.repeat(2100)}`)).rejects.toThrow(code('callback_url_invalid'));
    await expect(check('https://nowhere.example.com/')).rejects.toThrow(code('callback_url_invalid'));
  });

  test('allowlisted hosts may use http and loopback (local development)', async () => {
    const allowlist = ['localhost', '127.0.0.1', '::1'];
    const dns = resolver({ localhost: ['127.0.0.1', '::1'] });
    await expect(check('http://localhost:4000/hook', allowlist, dns)).resolves.toBeUndefined();
    await expect(check('http://127.0.0.1:4000/hook', allowlist, dns)).resolves.toBeUndefined();
    await expect(check('http://[::1]:4000/hook', allowlist, dns)).resolves.toBeUndefined();
    await expect(check('http://LOCALHOST./hook', allowlist, dns)).resolves.toBeUndefined();
    // Only the listed host: another loopback spelling is still refused.
    await expect(check('https://127.0.0.2/hook', allowlist, dns)).rejects.toThrow(code('callback_url_forbidden'));
  });

  test('parseCallbackUrl reports whether the host is allowlisted', () => {
    expect(parseCallbackUrl('http://LocalHost:1/x', ['localhost'])).toMatchObject({ host: 'localhost', allowlisted: true });
    expect(parseCallbackUrl('https://hooks.example.com/x', ['localhost'])).toMatchObject({ host: 'hooks.example.com', allowlisted: false });
  });
});

describe('guardedLookup', () => {
  // A stand-in for DNS: the lookup answers what a hostile name server could.
  const fakeDns = (table: Record<string, string[]>): LookupAll => (hostname, _options, callback) => {
    const found = table[hostname];
    if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(null, found.map((address) => ({ address, family: isIP(address) })));
  };
  const dns = fakeDns({
    'rebound.example.com': ['127.0.0.1'],
    '6to4.example.com': ['2002:7f00:1::'],
    'meta6to4.example.com': ['2002:a9fe:a9fe::'],
    'teredo.example.com': ['2001:0:808:808:8000:63bf:80ff:fffe'],
    'isatap.example.com': ['2606:4700::5efe:a9fe:a9fe'],
    'mixed.example.com': ['93.184.215.14', '2002:a9fe:a9fe::'],
    'public.example.com': ['93.184.215.14', '2606:4700::1111'],
  });
  const lookup = (host: string, all: boolean) =>
    new Promise<{ err: unknown; address: unknown; family?: number }>((resolve) =>
      guardedLookup(dns)(host, { all }, (err: unknown, address: unknown, family?: number) => resolve({ err, address, family })),
    );

  test.each(['rebound', '6to4', 'meta6to4', 'teredo', 'isatap', 'mixed'])('refuses %s.example.com at connect time', async (name) => {
    for (const all of [false, true]) {
      const { err } = await lookup(`${name}.example.com`, all);
      expect(err).toMatchObject({ code: 'callback_url_forbidden', status: 400 });
    }
  });

  test('hands public addresses through, one or all as asked', async () => {
    expect(await lookup('public.example.com', false)).toMatchObject({ err: null, address: '93.184.215.14', family: 4 });
    expect((await lookup('public.example.com', true)).address).toEqual([
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  test('passes a resolution failure on as it is', async () => {
    expect((await lookup('nowhere.example.com', false)).err).toMatchObject({ code: 'ENOTFOUND' });
  });

  test('is what http.request connects through: a rebound name never gets a socket', async () => {
    const error = await new Promise<Error>((resolve) => {
      const req = request({ host: 'rebound.example.com', port: 9, path: '/', lookup: guardedLookup(dns) }, () => resolve(new Error('connected')));
      req.on('error', resolve);
      req.end();
    });
    expect(error).toMatchObject({ code: 'callback_url_forbidden' });
  });
});
