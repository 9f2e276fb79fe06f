import type { ProviderSettings } from '../config/types.ts';
import type { GatewayEnv } from '../config/env.ts';
import { resolveProviderEndpoint } from '../config/providers.ts';
import { AnthropicProvider } from './anthropic.ts';
import { OpenAiProvider } from './openai.ts';
import type { ProviderClient } from './types.ts';

/**
 * SDK clients per provider, built once and rebuilt only when a reload changes the provider's
 * endpoint or key (an SDK client holds a connection pool worth keeping).
 */
export class ProviderRegistry {
  readonly #env: GatewayEnv;
  readonly #clients = new Map<string, { fingerprint: string; client: ProviderClient }>();

  constructor(env: GatewayEnv) {
    this.#env = env;
  }

  /** The client for provider `name` under its current settings. */
  get(name: string, settings: ProviderSettings): ProviderClient {
    const { baseURL, apiKey } = resolveProviderEndpoint(settings, name, this.#env);
    const fingerprint = `${settings.kind}|${baseURL}|${apiKey}`;
    const known = this.#clients.get(name);
    if (known?.fingerprint === fingerprint) return known.client;
    const client = settings.kind === 'openai' ? new OpenAiProvider(name, baseURL, apiKey) : new AnthropicProvider(name, baseURL, apiKey);
    this.#clients.set(name, { fingerprint, client });
    return client;
  }
}
