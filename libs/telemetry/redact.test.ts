import { describe, expect, test } from 'vitest';
import { MIN_SECRET_LENGTH, REDACTED, createRedactor, redactSecrets, redactUrl, secretsFromEnv, urlSecrets } from './redact.ts';

describe('redactUrl', () => {
  test.each([
    ['redis://:pw@h', 'redis://***@h'],
    ['redis://user:pw@h:1/0', 'redis://***@h:1/0'],
    ['rediss://default:s3cr3t@cache.example.com:6380', 'rediss://***@cache.example.com:6380'],
    ['mongodb://u:p@h1,h2/db?authSource=x', 'mongodb://***@h1,h2/db?authSource=x'],
    ['mongodb+srv://u:p%40ss@cluster0.example.net/db', 'mongodb+srv://***@cluster0.example.net/db'],
    ['postgres://u:p@ss@db/x', 'postgres://***@db/x'],
    ['https://api.example.com/v1?api_key=abc&x=1', 'https://api.example.com/v1?api_key=***&x=1'],
    ['https://h/cb?x=1&token=abc#frag', 'https://h/cb?x=1&token=***#frag'],
    ['redis://h:6379?password=pw&db=2', 'redis://h:6379?password=***&db=2'],
    ['https://h/?key=k1;sig=zz', 'https://h/?key=***;sig=***'],
    ['sqlite:./data/gateway.sqlite', 'sqlite:./data/gateway.sqlite'],
    ['sqlite:///var/lib/gw.sqlite', 'sqlite:///var/lib/gw.sqlite'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['http://127.0.0.1:3000/v1/jobs?status=queued', 'http://127.0.0.1:3000/v1/jobs?status=queued'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('redactSecrets', () => {
  test.each([
    ['Redis is not reachable at redis://:hunter2@10.0.0.1:6379 (ECONNREFUSED).', 'Redis is not reachable at redis://***@10.0.0.1:6379 (ECONNREFUSED).'],
    ['two: redis://a:b@h1 and mongodb://c:d@h2/x, done', 'two: redis://***@h1 and mongodb://***@h2/x, done'],
    ["url='redis://:pw@h:1' next", "url='redis://***@h:1' next"],
    ['an e-mail user@example.com stays', 'an e-mail user@example.com stays'],
    ['a path http://h/a@b stays', 'a path http://h/a@b stays'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  test('a URL inside an error stack is scrubbed on every line', () => {
    const err = new Error('connect failed for mongodb://gw:topsecret@db:27017/gw');
    const out = redactSecrets(err.stack ?? '');
    expect(out).not.toContain('topsecret');
    expect(out.split('\n').length).toBe((err.stack ?? '').split('\n').length);
  });

  test('known secret values are replaced wherever they appear, plain or percent-encoded', () => {
    const secrets = ['sk-live-ABCDEF123', 'p@ss/word'];
    expect(redactSecrets('key sk-live-ABCDEF123 used', secrets)).toBe(`key ${REDACTED} used`);
    expect(redactSecrets('auth with p%40ss%2Fword', secrets)).toBe(`auth with ${REDACTED}`);
    expect(redactSecrets('args: ["p@ss/word"]', secrets)).toBe(`args: ["${REDACTED}"]`);
  });

  test('the longer of two overlapping secrets is replaced whole', () => {
    expect(redactSecrets('x secret-long y', ['secret', 'secret-long'])).toBe(`x ${REDACTED} y`);
  });

  test(`secrets shorter than ${MIN_SECRET_LENGTH} characters are not matched by value`, () => {
    expect(redactSecrets('a b c', ['b'])).toBe('a b c');
  });
});

describe('createRedactor().lines', () => {
  const r = createRedactor(['tok_"quoted"\\x', 'plainsecret']);

  test('a JSON line stays valid JSON with each string scrubbed, in err stacks too', () => {
    const err = new Error('boom at redis://:pw1@h:6379');
    const line = `${JSON.stringify({ level: 50, msg: 'using plainsecret', err: { message: err.message, stack: err.stack }, n: 3 })}\n`;
    const out = r.lines(line);
    expect(out.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(out) as { msg: string; err: { message: string; stack: string }; n: number };
    expect(parsed.msg).toBe(`using ${REDACTED}`);
    expect(parsed.err.message).toBe('boom at redis://***@h:6379');
    expect(parsed.err.stack).not.toContain('pw1');
    expect(parsed.n).toBe(3);
  });

  test('a secret that JSON escapes is found in the JSON line and removed', () => {
    const out = r.lines(JSON.stringify({ header: 'Bearer tok_"quoted"\\x' }));
    expect(JSON.parse(out)).toEqual({ header: `Bearer ${REDACTED}` });
  });

  test('a line with nothing suspicious is returned as is', () => {
    const line = '{"level":30,"msg":"api listening on http://127.0.0.1:3000"}';
    expect(r.lines(line)).toBe(line);
  });

  test('several text lines in one chunk are each scrubbed', () => {
    expect(r.lines('a redis://:x@h\nb plainsecret\n')).toBe(`a redis://***@h\nb ${REDACTED}\n`);
  });
});

describe('secretsFromEnv', () => {
  test('collects every secret the gateway reads, and no ordinary setting', () => {
    const secrets = secretsFromEnv({
      GATEWAY_API_KEYS: 'demo:gk_aaaa1111, other:gk_bbbb:2222,malformedkey',
      GATEWAY_WEBHOOK_SECRETS: 'demo:whsec_c2VjcmV0c2VjcmV0',
      GATEWAY_ADMIN_TOKEN: 'admin-token-1',
      GATEWAY_VIEWER_TOKEN: 'viewer-token-1',
      OPENAI_API_KEY: 'sk-openai-1',
      ANTHROPIC_API_KEY: 'sk-ant-1',
      REDIS_URL: 'redis://:redis%2Fpw@127.0.0.1:6390/0',
      DATABASE_URL: 'mongodb://gw:mongo-pw@h1,h2/db?authSource=admin',
      MONGODB_URI: 'mongodb://127.0.0.1/x?password=qpass1',
      GATEWAY_ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/T0/B0/xyz',
      PORT: '3000',
      LOG_LEVEL: 'debug',
      CONFIG_DIR: './config',
      OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1',
    });
    expect(secrets.sort()).toEqual(
      [
        'gk_aaaa1111',
        'gk_bbbb:2222',
        'malformedkey',
        'whsec_c2VjcmV0c2VjcmV0',
        'c2VjcmV0c2VjcmV0',
        'admin-token-1',
        'viewer-token-1',
        'sk-openai-1',
        'sk-ant-1',
        'redis%2Fpw',
        'redis/pw',
        'mongo-pw',
        'qpass1',
        'https://hooks.example.com/services/T0/B0/xyz',
      ].sort(),
    );
  });

  test('urlSecrets reads the password of a multi-host URL and ignores a user without one', () => {
    expect(urlSecrets('mongodb://u:p%40w@h1:1,h2:2/db')).toEqual(['p%40w', 'p@w']);
    expect(urlSecrets('redis://user@h')).toEqual([]);
    expect(urlSecrets('not a url')).toEqual([]);
  });
});
