/**
 * Client API keys. Keys are held only as SHA-256 digests: a leaked registry (or hash file) does
 * not reveal a usable key, and comparing fixed-length digests in constant time leaks neither the
 * key's length nor how much of it matched.
 */
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors/index.ts';

/** Shortest key accepted, in characters. */
export const MIN_API_KEY_LENGTH = 16;

/** Client ids are used in file lines, logs and Redis keys, so they stay plain. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HASH_LINE = /^([^:\s]+):sha256:([0-9a-fA-F]{64})$/;

const UNAUTHORIZED_MESSAGE =
  'Missing or invalid API key: send the header `Authorization: Bearer <key>` with the key issued to your client.';

/** The SHA-256 digest of a key, as 64 lowercase hex characters. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
export function parseBearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^\s*Bearer +(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Throws GatewayError `invalid_client_id` unless the id is 1-64 of [A-Za-z0-9._-], starting alphanumeric. */
export function assertClientId(clientId: string): void {
  if (!CLIENT_ID.test(clientId)) {
    throw new GatewayError(
      'invalid_client_id',
      `Invalid client id ${JSON.stringify(clientId.slice(0, 80))}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
    );
  }
}

/** One known key: the client it belongs to and the SHA-256 digest of the key. */
interface KeyEntry {
  clientId: string;
  digest: Buffer;
}

/** The known client keys, and the check of a request's bearer token against them. */
export class ApiKeyRegistry {
  readonly #entries: readonly KeyEntry[];

  private constructor(entries: KeyEntry[]) {
    this.#entries = distinct(entries);
  }

  /** A registry with no keys: every authenticate() call is refused. */
  static empty(): ApiKeyRegistry {
    return new ApiKeyRegistry([]);
  }

  /**
   * From plain keys (development and tests). Throws `weak_api_key` for a key shorter than
   * MIN_API_KEY_LENGTH, `invalid_client_id`, or `duplicate_api_key` when two clients share a key.
   */
  static fromPairs(pairs: { clientId: string; key: string }[]): ApiKeyRegistry {
    return new ApiKeyRegistry(
      pairs.map(({ clientId, key }) => {
        assertClientId(clientId);
        if (key.length < MIN_API_KEY_LENGTH) {
          throw new GatewayError(
            'weak_api_key',
            `The API key for client ${clientId} is shorter than ${MIN_API_KEY_LENGTH} characters: issue a longer random key (node scripts/hashApiKey.ts ${clientId}).`,
          );
        }
        return { clientId, digest: Buffer.from(hashApiKey(key), 'hex') };
      }),
    );
  }

  /**
   * From a hash file: one `client_id:sha256:<64 hex>` per line; blank lines and lines starting
   * with `#` are ignored. Throws `invalid_api_key_file` naming the first malformed line (1-based).
   */
  static fromHashFile(text: string): ApiKeyRegistry {
    const entries: KeyEntry[] = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const match = HASH_LINE.exec(line);
      const clientId = match?.[1];
      const hex = match?.[2];
      if (!clientId || !hex || !CLIENT_ID.test(clientId)) {
        throw new GatewayError(
          'invalid_api_key_file',
          `API key file line ${index + 1} is malformed: each line must be client_id:sha256:<64 hex digits> (make one with node scripts/hashApiKey.ts <client_id>).`,
          { details: [{ path: `line ${index + 1}`, message: 'expected client_id:sha256:<64 hex digits>' }] },
        );
      }
      entries.push({ clientId, digest: Buffer.from(hex, 'hex') });
    });
    return new ApiKeyRegistry(entries);
  }

  /** A new registry with the keys of both; throws `duplicate_api_key` if one key belongs to two clients. */
  merge(other: ApiKeyRegistry): ApiKeyRegistry {
    return new ApiKeyRegistry([...this.#entries, ...other.#entries]);
  }

  /** Number of keys known (a client may hold several during rotation). */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * The client id whose key the `Authorization: Bearer <key>` header carries. Throws GatewayError
   * `unauthorized` (401) when the header is missing, malformed or the key unknown, with one
   * message for all three so that a caller learns nothing about which clients exist.
   */
  authenticate(authorizationHeader: string | undefined): string {
    const token = parseBearer(authorizationHeader);
    if (token !== null) {
      // One-shot hash: no Hash object per request.
      const digest = hash('sha256', token, 'buffer');
      let found: string | undefined;
      // Compare against every entry, without stopping at a match, so timing does not tell
      // which position (or client) matched.
      for (const entry of this.#entries) {
        if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.clientId;
      }
      if (found !== undefined) return found;
    }
    throw new GatewayError('unauthorized', UNAUTHORIZED_MESSAGE, { status: 401 });
  }
}

// The same key listed twice for one client is harmless and dropped; one key for two clients is
// ambiguous and refused.
function distinct(entries: KeyEntry[]): KeyEntry[] {
  const owner = new Map<string, string>();
  const out: KeyEntry[] = [];
  for (const entry of entries) {
    const hex = entry.digest.toString('hex');
    const previous = owner.get(hex);
    if (previous === entry.clientId) continue;
    if (previous !== undefined) {
      throw new GatewayError(
        'duplicate_api_key',
        `One API key is configured for two clients (${previous} and ${entry.clientId}): give each client its own key.`,
      );
    }
    owner.set(hex, entry.clientId);
    out.push(entry);
  }
  return out;
}
