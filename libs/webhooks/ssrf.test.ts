import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { checkCallbackUrl, guardedLookup, isForbiddenAddress, parseCallbackUrl } from './ssrf.ts';

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
  ])('%s is forbidden', (ip) => expect(isForbiddenAddress(ip)).toBe(true));

  test.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
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
    });
    for (const host of ['loop', 'v6loop', 'inside', 'meta', 'mixed']) {
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
  test('refuses at connect time a name that resolves to loopback (DNS rebinding)', async () => {
    const error = await new Promise<Error>((resolve) => {
      const req = request({ host: 'localhost', port: 9, path: '/', lookup: guardedLookup() }, () => resolve(new Error('connected')));
      req.on('error', resolve);
      req.end();
    });
    expect(error).toMatchObject({ code: 'callback_url_forbidden' });
  });
});
