import type { GatewayEnv } from '../config/env.ts';
import { resolveProviderEndpoint } from '../config/providers.ts';
import type { ProviderSettings } from '../config/types.ts';
import { AnthropicBatchClient } from './batch/anthropic.ts';
import { OpenAiBatchClient } from './batch/openai.ts';
import type { BatchProviderClient } from './batch/types.ts';

/**
 * The batch client for provider `name`, from the same settings as its realtime client (kind,
 * base_url and the env overrides, api key env). Throws GatewayError `missing_api_key` like
 * ProviderRegistry when a remote endpoint has no key.
 */
export function createBatchClient(name: string, settings: ProviderSettings, env: GatewayEnv): BatchProviderClient {
  const { baseURL, apiKey } = resolveProviderEndpoint(settings, name, env);
  return settings.kind === 'openai' ? new OpenAiBatchClient(name, baseURL, apiKey) : new AnthropicBatchClient(name, baseURL, apiKey);
}
