/** Builds the API key registry a process serves with, from the parsed environment. */
import { readFile } from 'node:fs/promises';
import { GatewayError } from '../errors/index.ts';
import { ApiKeyRegistry } from './apiKeys.ts';
import type { GatewayEnv } from '../config/env.ts';

/**
 * The keys of GATEWAY_API_KEYS (plain, development) merged with those of the hash file named by
 * GATEWAY_API_KEYS_FILE (production), if any. Throws `api_key_file_unreadable` when the file
 * cannot be read, and the registry's own load errors (`invalid_api_key_file`, `weak_api_key`, ...).
 */
export async function loadApiKeys(env: Pick<GatewayEnv, 'apiKeys' | 'apiKeysFile'>): Promise<ApiKeyRegistry> {
  const fromEnv = ApiKeyRegistry.fromPairs(env.apiKeys);
  if (env.apiKeysFile === undefined) return fromEnv;
  let text: string;
  try {
    text = await readFile(env.apiKeysFile, 'utf8');
  } catch (cause) {
    throw new GatewayError(
      'api_key_file_unreadable',
      `Cannot read GATEWAY_API_KEYS_FILE ${env.apiKeysFile}: check the path and its permissions (${(cause as Error).message}).`,
      { cause },
    );
  }
  return fromEnv.merge(ApiKeyRegistry.fromHashFile(text));
}
