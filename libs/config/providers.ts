/**
 * Where to send a provider's requests and with which key: the JSON config gives defaults, the
 * environment overrides them, and the local simulator needs no real key.
 */
import { GatewayError } from '../errors/index.ts';
import type { GatewayEnv } from './env.ts';
import type { ProviderSettings } from './types.ts';

/** The key sent to a loopback endpoint (the simulator) when no key is configured. */
export const SIMULATOR_API_KEY = 'simulator';

/** An SDK-ready endpoint. */
export interface ProviderEndpoint {
  baseURL: string;
  apiKey: string;
}

/** True for http(s) URLs on localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackUrl(url: string): boolean {
  const host = URL.parse(url)?.hostname.toLowerCase();
  if (host === undefined) return false;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The base URL and key for provider `name`. OPENAI_BASE_URL / ANTHROPIC_BASE_URL (chosen by
 * `settings.kind`) win over `base_url`; the key is the variable named by `api_key_env`, else
 * 'simulator' for a loopback endpoint. Throws GatewayError `missing_api_key` (500) when a
 * remote endpoint has no key.
 */
export function resolveProviderEndpoint(settings: ProviderSettings, name: string, env: GatewayEnv): ProviderEndpoint {
  const override = settings.kind === 'openai' ? env.openaiBaseUrl : env.anthropicBaseUrl;
  const baseURL = override ?? settings.base_url;
  const apiKey = keyFor(settings.api_key_env, env);
  if (apiKey !== undefined) return { baseURL, apiKey };
  if (isLoopbackUrl(baseURL)) return { baseURL, apiKey: SIMULATOR_API_KEY };
  throw new GatewayError(
    'missing_api_key',
    `Provider '${name}' points at ${baseURL} but ${settings.api_key_env} is not set. Set ${settings.api_key_env}, or point the provider at the local simulator.`,
    { status: 500, details: [{ path: settings.api_key_env, message: 'is not set' }] },
  );
}

function keyFor(variable: string, env: GatewayEnv): string | undefined {
  if (variable === 'OPENAI_API_KEY' && env.openaiApiKey) return env.openaiApiKey;
  if (variable === 'ANTHROPIC_API_KEY' && env.anthropicApiKey) return env.anthropicApiKey;
  return env.providerApiKeys[variable];
}
