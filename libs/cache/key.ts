import { createHash } from 'node:crypto';
import type { Category } from '../features/category.ts';

/**
 * Cache keys: a sha256 (base64url, 43 characters) of a canonical form of the request, so that
 * requests differing only in case, spacing or skill order share one entry. The variant and prompt
 * version are part of every key, so a cached answer never crosses arms of an A/B test; so is the
 * scope (the client id, unless the feature shares its cache), so it never crosses clients.
 */

/** The scope of a feature whose cache every client shares (`cache.scope: "shared"`). */
export const SHARED_SCOPE = '*';

/** The scope of a client's cache entries: its own id, or SHARED_SCOPE when the feature shares them. */
export function cacheScope(clientId: string, scope: 'client' | 'shared' = 'client'): string {
  return scope === 'shared' ? SHARED_SCOPE : `client:${clientId}`;
}

/** What identifies one cacheable answer. */
export interface CacheKeyParts {
  /** Whose cache: cacheScope() of the job's client. */
  scope: string;
  feature: string;
  promptVersion: string;
  /** The A/B variant name (e.g. `gpt4`). */
  variant: string;
  /** The job's input. */
  input: Record<string, unknown>;
  /** The feature's `cache.key_fields`: input paths that count, dotted paths reach into objects. */
  keyFields: string[];
}

// Bump when the canonical form changes, so old entries are simply never read again.
// Version 2 added the scope; version-1 entries (shared across clients) are never read again.
const KEY_VERSION = 'cache-key/2';
const CATEGORY_KEY_VERSION = 'cache-category/2';

/** Normalised free text: trimmed, lower-cased, runs of whitespace made one space (Unicode NFKC). */
export function normaliseText(s: string): string {
  return s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * A canonical copy of a JSON value: strings normalised, arrays of strings sorted and de-duplicated
 * (other arrays keep their order), object keys sorted. Empty strings and nulls become undefined,
 * since the prompt renders them exactly like a missing field.
 */
export function canonicalValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const s = normaliseText(value);
    return s === '' ? undefined : s;
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map(canonicalValue).filter((v) => v !== undefined);
    if (items.every((v) => typeof v === 'string')) return [...new Set(items as string[])].sort();
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = canonicalValue((value as Record<string, unknown>)[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return value;
}

/** The value at a dotted path of `input`, or undefined. */
export function valueAt(input: Record<string, unknown>, path: string): unknown {
  let value: unknown = input;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The canonical picture of the key fields: path -> canonical value, paths sorted, absent ones left out. */
export function canonicalInput(input: Record<string, unknown>, keyFields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of [...new Set(keyFields)].sort()) {
    const v = canonicalValue(valueAt(input, path));
    if (v !== undefined) out[path] = v;
  }
  return out;
}

function digest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/** The cache key (43-character base64url sha256) of one request's answer. */
export function cacheKey(parts: CacheKeyParts): string {
  return digest([KEY_VERSION, parts.scope, parts.feature, parts.promptVersion, parts.variant, canonicalInput(parts.input, parts.keyFields)]);
}

/**
 * The key of a category's generic answer (written from the category alone, never from a user's
 * profile), same scope, feature, prompt version and variant. Read only when no provider can answer.
 */
export function categoryKey(parts: Pick<CacheKeyParts, 'scope' | 'feature' | 'promptVersion' | 'variant'>, category: Category): string {
  return digest([CATEGORY_KEY_VERSION, parts.scope, parts.feature, parts.promptVersion, parts.variant, category.sector, category.degree_level, category.experience_band]);
}
