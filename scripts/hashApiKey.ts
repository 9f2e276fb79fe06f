/**
 * Prints an API key file line: `node scripts/hashApiKey.ts <client_id> [key]`.
 * Without a key, generates a random 32-byte base64url key and prints it once, to stderr, so that
 * stdout can be appended straight to the key file: `node scripts/hashApiKey.ts app >> keys.txt`.
 */
import { randomBytes } from 'node:crypto';
import { isGatewayError } from '../libs/errors/index.ts';
import { ApiKeyRegistry, hashApiKey } from '../libs/auth/apiKeys.ts';

const [clientId, givenKey, ...extra] = process.argv.slice(2);
if (!clientId || extra.length > 0) {
  console.error('usage: node scripts/hashApiKey.ts <client_id> [key]');
  process.exit(2);
}

const key = givenKey ?? randomBytes(32).toString('base64url');
try {
  // The same checks the gateway applies at load (client id shape, key length).
  ApiKeyRegistry.fromPairs([{ clientId, key }]);
} catch (e) {
  console.error(isGatewayError(e) ? `${e.code}: ${e.message}` : e);
  process.exit(1);
}
if (givenKey === undefined) console.error(`API key for ${clientId} (shown once, store it now): ${key}`);
console.log(`${clientId}:sha256:${hashApiKey(key)}`);
