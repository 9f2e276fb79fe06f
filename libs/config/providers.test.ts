import { describe, expect, test } from 'vitest';
import { readEnv } from './env.ts';
import { isLoopbackUrl, resolveProviderEndpoint } from './providers.ts';
import { loadConfig } from './load.ts';
import { SHIPPED_CONFIG_DIR } from './tempConfig.ts';
import type { ProviderSettings } from './types.ts';

const providers = loadConfig(SHIPPED_CONFIG_DIR).providers.providers;
const openai = providers['openai'] as ProviderSettings;
const anthropic = providers['anthropic'] as ProviderSettings;

describe('resolveProviderEndpoint', () => {
  test('the shipped config points at the simulator with a placeholder key', () => {
    expect(resolveProviderEndpoint(openai, 'openai', readEnv({}))).toEqual({ baseURL: 'http://127.0.0.1:4010/v1', apiKey: 'simulator' });
    expect(resolveProviderEndpoint(anthropic, 'anthropic', readEnv({}))).toEqual({ baseURL: 'http://127.0.0.1:4010', apiKey: 'simulator' });
  });

  test('environment overrides win, chosen by kind', () => {
    const env = readEnv({ OPENAI_BASE_URL: 'https://api.openai.com/v1', OPENAI_API_KEY: 'sk-1', ANTHROPIC_API_KEY: 'sk-ant' });
    expect(resolveProviderEndpoint(openai, 'openai', env)).toEqual({ baseURL: 'https://api.openai.com/v1', apiKey: 'sk-1' });
    expect(resolveProviderEndpoint(anthropic, 'anthropic', env)).toEqual({ baseURL: 'http://127.0.0.1:4010', apiKey: 'sk-ant' });
  });

  test('any api_key_env variable is honoured', () => {
    const custom = { ...openai, base_url: 'https://example.azure.com/v1', api_key_env: 'AZURE_API_KEY' };
    expect(resolveProviderEndpoint(custom, 'azure', readEnv({ AZURE_API_KEY: 'az' })).apiKey).toBe('az');
  });

  test('a remote endpoint without a key names the variable to set', () => {
    const env = readEnv({ ANTHROPIC_BASE_URL: 'https://api.anthropic.com' });
    expect(() => resolveProviderEndpoint(anthropic, 'anthropic', env)).toThrow(
      expect.objectContaining({ code: 'missing_api_key', message: expect.stringContaining('ANTHROPIC_API_KEY') }),
    );
  });
});

test.each([
  ['http://127.0.0.1:4010', true],
  ['http://127.1.2.3', true],
  ['http://localhost:4010/v1', true],
  ['http://[::1]:4010', true],
  ['https://api.openai.com/v1', false],
  ['http://127.0.0.1.evil.com', false],
  ['not a url', false],
])('isLoopbackUrl(%s) = %s', (url, expected) => {
  expect(isLoopbackUrl(url)).toBe(expected);
});
