/**
 * How a cached answer is stored in Redis: one JSON string holding the answer and the moment it goes
 * stale, so a single GET tells both. The key's own TTL is the stale TTL: past it, the entry is gone.
 *
 * The moment comes first, as an integer, so a lookup reads it from the string's head (the Lua probe
 * with a pattern, Node with a regex) and decodes the answer only when it will hand it out: a stale
 * entry costs no JSON decode at all. The layout is the one every earlier version wrote and read, so
 * old and new processes share entries during a rolling deploy in both directions.
 */

/** A provider answer as the cache keeps it. */
export interface CachedAnswer {
  text: string;
  provider: string;
  model: string;
  /** A/B variant name the answer was produced for. */
  variant: string;
  promptVersion: string;
  inputTokens: number;
  outputTokens: number;
  /** ISO time the answer was produced. */
  createdAt: string;
  /** 'stop', or 'length' when cut at the output limit. Absent in entries written before it existed. */
  finishReason?: string;
}

/** A cached answer with its freshness. */
export interface CacheLookup {
  entry: CachedAnswer;
  /** True once the entry is past its fresh TTL (it is kept only as a fallback). */
  stale: boolean;
}

/** The stored JSON; `freshUntil` first, so the Lua probe's decode finds it (Unix milliseconds). */
interface StoredEntry {
  freshUntil: number;
  entry: CachedAnswer;
}

/** The stored string for `entry`, fresh until `freshUntilMs` (Unix milliseconds). */
export function encodeEntry(entry: CachedAnswer, freshUntilMs: number): string {
  const stored: StoredEntry = { freshUntil: freshUntilMs, entry };
  return JSON.stringify(stored);
}

// `{"freshUntil":<integer>,` as encodeEntry writes it (JSON.stringify keeps key order, and a Unix
// millisecond time is an integer written without exponent).
const HEAD = /^\{"freshUntil":(-?\d{1,16}),/;

/** The Unix millisecond time a stored string goes stale, read from its head without decoding the answer; null when the head is not encodeEntry's. */
export function freshUntilOf(raw: string): number | null {
  const head = HEAD.exec(raw);
  return head ? Number(head[1]) : null;
}

/**
 * The entry in a stored string when it is fresh at `nowMs` (or stale and `allowStale`), else null:
 * decodes the answer only when it is returned. Strings of another layout get a full decode.
 */
export function lookupEntry(raw: string | null | undefined, nowMs: number, allowStale: boolean): CacheLookup | null {
  if (!raw) return null;
  const freshUntil = freshUntilOf(raw);
  if (freshUntil !== null && !allowStale && nowMs >= freshUntil) return null;
  const found = decodeEntry(raw, nowMs);
  return found && (!found.stale || allowStale) ? found : null;
}

/** The answer in a stored string and whether it is stale at `nowMs`; null for anything unreadable. */
export function decodeEntry(raw: string | null | undefined, nowMs: number): CacheLookup | null {
  if (!raw) return null;
  let stored: Partial<StoredEntry>;
  try {
    stored = JSON.parse(raw) as Partial<StoredEntry>;
  } catch {
    return null;
  }
  const e = stored?.entry;
  if (typeof stored?.freshUntil !== 'number' || !e || typeof e.text !== 'string' || typeof e.variant !== 'string') return null;
  return { entry: e, stale: nowMs >= stored.freshUntil };
}

/**
 * Milliseconds the key lives: the stale TTL, or the fresh TTL if that is longer. Both in seconds
 * (FeatureConfig.cache.ttl_seconds and stale_ttl_seconds); the fresh TTL must be positive.
 */
export function keyLifetimeMs(ttlSeconds: number, staleTtlSeconds: number): number {
  if (!(ttlSeconds > 0)) throw new RangeError(`cache ttlSeconds must be positive, got ${ttlSeconds}`);
  return Math.round(Math.max(ttlSeconds, staleTtlSeconds) * 1000);
}
