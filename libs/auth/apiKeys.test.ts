import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../errors/index.ts';
import { ApiKeyRegistry, hashApiKey, parseBearer } from './apiKeys.ts';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';

function errorOf(fn: () => unknown): { code: string; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (isGatewayError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a GatewayError');
}

describe('hashApiKey', () => {
  it('is the SHA-256 hex digest', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('parseBearer', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER  abc  ', 'abc'],
  ])('%j gives %j', (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'abc', 'Token abc'])('%j gives null', (header) => {
    expect(parseBearer(header)).toBeNull();
  });
});

describe('ApiKeyRegistry', () => {
  const registry = ApiKeyRegistry.fromPairs([
    { clientId: 'career-app', key: KEY_A },
    { clientId: 'reports', key: KEY_B },
  ]);

  it('answers the client whose key is presented', () => {
    expect(registry.authenticate(`Bearer ${KEY_A}`)).toBe('career-app');
    expect(registry.authenticate(`bearer ${KEY_B}`)).toBe('reports');
    expect(registry.size).toBe(2);
  });

  it.each([undefined, '', `Basic ${KEY_A}`, 'Bearer', `Bearer ${KEY_A}x`, `Bearer ${KEY_A.slice(0, -1)}`, 'Bearer unknown-key-0123456789'])(
    'refuses %j with unauthorized (401) and the same message',
    (header) => {
      const e = errorOf(() => registry.authenticate(header));
      expect(e).toMatchObject({ code: 'unauthorized', status: 401 });
      expect(e.message).toContain('Authorization: Bearer <key>');
      expect(e.message).not.toContain('career-app');
    },
  );

  it('refuses everything when empty', () => {
    expect(ApiKeyRegistry.empty().size).toBe(0);
    expect(errorOf(() => ApiKeyRegistry.empty().authenticate(`Bearer ${KEY_A}`)).code).toBe('unauthorized');
  });

  it('refuses a key shorter than 16 characters, naming the client', () => {
    const e = errorOf(() => ApiKeyRegistry.fromPairs([{ clientId: 'weakling', key: '0123456789abcde' }]));
    expect(e.code).toBe('weak_api_key');
    expect(e.message).toContain('weakling');
    expect(ApiKeyRegistry.fromPairs([{ clientId: 'ok', key: '0123456789abcdef' }]).size).toBe(1);
  });

  it('refuses a bad client id and a key given to two clients', () => {
    expect(errorOf(() => ApiKeyRegistry.fromPairs([{ clientId: 'a:b', key: KEY_A }])).code).toBe('invalid_client_id');
    expect(errorOf(() => ApiKeyRegistry.fromPairs([{ clientId: '', key: KEY_A }])).code).toBe('invalid_client_id');
    const e = errorOf(() =>
      ApiKeyRegistry.fromPairs([
        { clientId: 'x', key: KEY_A },
        { clientId: 'y', key: KEY_A },
      ]),
    );
    expect(e.code).toBe('duplicate_api_key');
  });

  it('drops a key listed twice for the same client', () => {
    const twice = ApiKeyRegistry.fromPairs([
      { clientId: 'x', key: KEY_A },
      { clientId: 'x', key: KEY_A },
    ]);
    expect(twice.size).toBe(1);
  });

  it('lets one client hold two keys during rotation', () => {
    const rotating = ApiKeyRegistry.fromPairs([
      { clientId: 'career-app', key: KEY_A },
      { clientId: 'career-app', key: KEY_B },
    ]);
    expect(rotating.authenticate(`Bearer ${KEY_A}`)).toBe('career-app');
    expect(rotating.authenticate(`Bearer ${KEY_B}`)).toBe('career-app');
  });
});

describe('ApiKeyRegistry.fromHashFile', () => {
  const file = [
    '# production clients',
    '',
    `career-app:sha256:${hashApiKey(KEY_A)}`,
    `  reports:sha256:${hashApiKey(KEY_B).toUpperCase()}  `,
    '   # indented comment',
  ].join('\r\n');

  it('loads hashes, ignoring comments and blank lines', () => {
    const registry = ApiKeyRegistry.fromHashFile(file);
    expect(registry.size).toBe(2);
    expect(registry.authenticate(`Bearer ${KEY_A}`)).toBe('career-app');
    expect(registry.authenticate(`Bearer ${KEY_B}`)).toBe('reports');
  });

  it.each([
    `a:sha256:${hashApiKey(KEY_A).slice(1)}`,
    `a:sha256:${hashApiKey(KEY_A)}0`,
    `a:md5:${hashApiKey(KEY_A)}`,
    `a:${KEY_A}`,
    `:sha256:${hashApiKey(KEY_A)}`,
    `a b:sha256:${hashApiKey(KEY_A)}`,
    `a:sha256:${'g'.repeat(64)}`,
  ])('refuses the malformed line %j with its line number', (bad) => {
    const e = errorOf(() => ApiKeyRegistry.fromHashFile(`# header\nok:sha256:${hashApiKey(KEY_B)}\n${bad}\n`));
    expect(e.code).toBe('invalid_api_key_file');
    expect(e.message).toContain('line 3');
  });

  it('merges with keys from pairs', () => {
    const merged = ApiKeyRegistry.fromHashFile(`career-app:sha256:${hashApiKey(KEY_A)}`).merge(
      ApiKeyRegistry.fromPairs([{ clientId: 'dev', key: KEY_B }]),
    );
    expect(merged.size).toBe(2);
    expect(merged.authenticate(`Bearer ${KEY_B}`)).toBe('dev');
    const clash = ApiKeyRegistry.fromPairs([{ clientId: 'dev', key: KEY_A }]);
    expect(errorOf(() => merged.merge(clash)).code).toBe('duplicate_api_key');
  });
});
