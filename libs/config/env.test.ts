import { describe, expect, test } from 'vitest';
import { ENV_VARS, readEnv } from './env.ts';

function envError(env: Record<string, string>): { code: string; message: string } {
  try {
    readEnv(env);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('readEnv accepted a malformed environment');
}

describe('readEnv', () => {
  test('defaults', () => {
    expect(readEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      redis: { url: 'redis://127.0.0.1:6379' },
      databaseUrl: './data/gateway.sqlite',
      apiKeys: [],
      apiKeysFile: undefined,
      webhookSecrets: {},
      callbackAllowlist: [],
      adminToken: undefined,
      viewerToken: undefined,
      webhookRetryDelaysMs: undefined,
      openaiBaseUrl: undefined,
      openaiApiKey: undefined,
      anthropicBaseUrl: undefined,
      anthropicApiKey: undefined,
      providerApiKeys: {},
      configDir: './config',
      configSyncPollMs: 500,
      workerConcurrency: 500,
      workerMetricsPort: 9101,
      workerLockMs: 30000,
      workerMaxStalled: 10,
      workerShutdownGraceMs: 30000,
      logLevel: 'info',
      queuePrefix: 'bull',
      telemetryDir: './data/telemetry',
    });
  });

  test('GATEWAY_VIEWER_TOKEN is read, and refused when it equals the admin token', () => {
    expect(readEnv({ GATEWAY_ADMIN_TOKEN: 'admin-0123', GATEWAY_VIEWER_TOKEN: ' viewer-0123 ' })).toMatchObject({ adminToken: 'admin-0123', viewerToken: 'viewer-0123' });
    expect(readEnv({ GATEWAY_VIEWER_TOKEN: 'viewer-0123' }).viewerToken).toBe('viewer-0123');
    const e = envError({ GATEWAY_ADMIN_TOKEN: 'same-0123', GATEWAY_VIEWER_TOKEN: 'same-0123' });
    expect(e.code).toBe('invalid_env');
    expect(e.message).toContain('GATEWAY_VIEWER_TOKEN must differ from GATEWAY_ADMIN_TOKEN');
    expect(e.message).not.toContain('same-0123');
  });

  test('REDIS_CLUSTER_NODES gives a cluster target that keeps REDIS_URL for credentials', () => {
    expect(readEnv({ REDIS_URL: 'redis://:pw@ignored:1', REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002' }).redis).toEqual({
      url: 'redis://:pw@ignored:1',
      clusterNodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(readEnv({ REDIS_CLUSTER_NODES: ' ' }).redis).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  test.each(['redis-a', 'redis-a:0', 'redis-a:70000', 'redis://a:7000', 'a:7000,b', ':7000'])('REDIS_CLUSTER_NODES %j is refused, naming the entry', (raw) => {
    const e = envError({ REDIS_CLUSTER_NODES: raw });
    expect(e.code).toBe('invalid_env');
    expect(e.message).toMatch(/REDIS_CLUSTER_NODES must be comma-separated host:port entries; '.+' is not one/);
  });

  test('webhook retry delays give the number of attempts', () => {
    expect(readEnv({ GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '100, 2000' }).webhookRetryDelaysMs).toEqual([100, 2000]);
    expect(() => readEnv({ GATEWAY_WEBHOOK_RETRY_DELAYS_MS: '100,soon' })).toThrow(/GATEWAY_WEBHOOK_RETRY_DELAYS_MS/);
  });

  test('the alert webhook is an http(s) URL', () => {
    expect(readEnv({ GATEWAY_ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x' }).alertWebhookUrl).toBe('https://hooks.slack.com/services/T/B/x');
    expect(readEnv({}).alertWebhookUrl).toBeUndefined();
    expect(() => readEnv({ GATEWAY_ALERT_WEBHOOK_URL: 'ftp://x' })).toThrow(/GATEWAY_ALERT_WEBHOOK_URL must be an http\(s\) URL/);
  });

  test('empty strings count as unset', () => {
    expect(readEnv({ PORT: '', OPENAI_API_KEY: '', GATEWAY_API_KEYS: '' })).toMatchObject({ port: 3000, openaiApiKey: undefined, apiKeys: [] });
    expect(readEnv({ WORKER_METRICS_PORT: '' }).workerMetricsPort).toBe(9101);
  });

  test('parses every variable', () => {
    const env = readEnv({
      PORT: '8080',
      HOST: '0.0.0.0',
      REDIS_URL: 'rediss://redis.internal:6380/1',
      DATABASE_URL: 'mongodb://mongo:27017/gateway',
      GATEWAY_API_KEYS: 'rails:key-one, rails:key:two ,bench:k3',
      GATEWAY_API_KEYS_FILE: '/run/secrets/keys',
      GATEWAY_WEBHOOK_SECRETS: 'rails:whsec_old,rails:whsec_new,bench:whsec_b',
      GATEWAY_CALLBACK_ALLOWLIST: 'localhost, 127.0.0.1,Rails.Local',
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      OPENAI_API_KEY: 'sk-test',
      ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
      ANTHROPIC_API_KEY: 'sk-ant',
      AZURE_API_KEY: 'az',
      CONFIG_DIR: '/etc/gateway',
      CONFIG_SYNC_POLL_MS: '250',
      WORKER_CONCURRENCY: '8',
      WORKER_METRICS_PORT: '0',
      WORKER_SHUTDOWN_GRACE_MS: '5000',
      LOG_LEVEL: 'debug',
      GATEWAY_QUEUE_PREFIX: 'gw',
      TELEMETRY_DIR: '/var/log/gateway',
    });
    expect(env.port).toBe(8080);
    expect(env.host).toBe('0.0.0.0');
    expect(env.apiKeys).toEqual([
      { clientId: 'rails', key: 'key-one' },
      { clientId: 'rails', key: 'key:two' },
      { clientId: 'bench', key: 'k3' },
    ]);
    expect(env.webhookSecrets).toEqual({ rails: ['whsec_old', 'whsec_new'], bench: ['whsec_b'] });
    expect(env.callbackAllowlist).toEqual(['localhost', '127.0.0.1', 'rails.local']);
    expect(env.providerApiKeys).toEqual({ OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'sk-ant', AZURE_API_KEY: 'az' });
    expect(env).toMatchObject({ apiKeysFile: '/run/secrets/keys', configDir: '/etc/gateway', configSyncPollMs: 250, workerConcurrency: 8, workerMetricsPort: 0, workerShutdownGraceMs: 5000, logLevel: 'debug', queuePrefix: 'gw', telemetryDir: '/var/log/gateway' });
  });

  test.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '3000.5' }],
    ['HOST', { HOST: '0.0.0.0:3000/x' }],
    ['HOST', { HOST: 'http://host' }],
    ['WORKER_CONCURRENCY', { WORKER_CONCURRENCY: '0' }],
    ['WORKER_METRICS_PORT', { WORKER_METRICS_PORT: '65536' }],
    // Above a second, a change could take longer than the 2 s config sync promises.
    ['CONFIG_SYNC_POLL_MS', { CONFIG_SYNC_POLL_MS: '1500' }],
    ['WORKER_SHUTDOWN_GRACE_MS', { WORKER_SHUTDOWN_GRACE_MS: '500' }],
    ['GATEWAY_API_KEYS', { GATEWAY_API_KEYS: 'rails-without-colon' }],
    ['GATEWAY_API_KEYS', { GATEWAY_API_KEYS: ':key' }],
    ['GATEWAY_API_KEYS', { GATEWAY_API_KEYS: 'a:same,b:same' }],
    ['GATEWAY_WEBHOOK_SECRETS', { GATEWAY_WEBHOOK_SECRETS: 'rails' }],
    ['GATEWAY_WEBHOOK_SECRETS', { GATEWAY_WEBHOOK_SECRETS: 'rails:plainsecret' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['OPENAI_BASE_URL', { OPENAI_BASE_URL: 'not a url' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['GATEWAY_QUEUE_PREFIX', { GATEWAY_QUEUE_PREFIX: '{bull}' }],
  ])('%s malformed: %j', (name, env) => {
    const e = envError(env);
    expect(e.code).toBe('invalid_env');
    expect(e.message).toContain(name);
  });

  test('does not echo a whole malformed key', () => {
    expect(envError({ GATEWAY_API_KEYS: 'supersecretkeywithoutcolon' }).message).not.toContain('supersecretkeywithoutcolon');
  });

  test('ENV_VARS lists each variable once', () => {
    expect(new Set(ENV_VARS).size).toBe(ENV_VARS.length);
    expect(ENV_VARS).toContain('GATEWAY_API_KEYS_FILE');
  });
});
