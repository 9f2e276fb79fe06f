/**
 * Bounds on what a submission may carry besides its schema: whatever a job record holds must fit
 * every store (SQLite's JSON functions stop at 1000 levels, MongoDB at 100 levels and refuses keys
 * starting with `$` or containing `.`), and recursive code (JSON.stringify, canonical JSON,
 * validators) must never meet a value deep enough to overflow the stack. Every check here is
 * iterative, so it is safe on any value JSON.parse produced.
 */

/** Most levels of nesting in `metadata`; the object itself is level 1. Default 4. */
export const METADATA_MAX_DEPTH = 4;
/** Most keys of one object (or items of one array) in `metadata`. Default 50. */
export const METADATA_MAX_ENTRIES = 50;
/** Longest string value in `metadata`, in UTF-16 code units (JavaScript characters). Default 1000. */
export const METADATA_MAX_STRING = 1000;
/** Largest `metadata` as JSON, in UTF-8 bytes. Default 8 KiB. */
export const METADATA_MAX_BYTES = 8 * 1024;
/** Most levels of nesting in `input`; the object itself is level 1. Default 16. */
export const INPUT_MAX_DEPTH = 16;

/** Why a submission breaks a bound: a stable error code, the JSON pointer of the value, and what is wrong. */
export interface BoundViolation {
  code: 'metadata_too_deep' | 'metadata_too_large' | 'invalid_metadata_key' | 'input_too_deep' | 'invalid_unicode';
  path: string;
  message: string;
}

/** The fields of a submission these bounds look at. */
export type SubmissionFields = Partial<Record<'feature' | 'user_id' | 'callback_url' | 'input' | 'metadata', unknown>>;

interface Limits {
  maxDepth: number;
  tooDeep: BoundViolation['code'];
  /** Metadata only: entries, string length and key rules. */
  metadata: boolean;
}

/**
 * The first bound `body` breaks, or null. Only `input`, `metadata` and the top-level strings are
 * looked at: the envelope's own schema checks types and unknown fields.
 */
export function checkSubmissionBounds(body: SubmissionFields): BoundViolation | null {
  for (const field of ['feature', 'user_id', 'callback_url'] as const) {
    const value = body[field];
    if (typeof value === 'string' && !value.isWellFormed()) return badUnicode(`/${field}`);
  }
  const input = walk(body.input, '/input', { maxDepth: INPUT_MAX_DEPTH, tooDeep: 'input_too_deep', metadata: false });
  if (input) return input;
  const metadata = walk(body.metadata, '/metadata', { maxDepth: METADATA_MAX_DEPTH, tooDeep: 'metadata_too_deep', metadata: true });
  if (metadata) return metadata;
  // Depth and entries are bounded by now, so the recursive JSON.stringify is safe.
  if (body.metadata !== undefined && Buffer.byteLength(JSON.stringify(body.metadata)) > METADATA_MAX_BYTES) {
    return { code: 'metadata_too_large', path: '/metadata', message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON` };
  }
  return null;
}

/** Where a value sits: its parent's place and its own key. The JSON pointer is spelled only for a violation. */
interface Place {
  parent: Place | null;
  key: string;
}

function pointer(root: string, place: Place | null): string {
  const tokens: string[] = [];
  for (let p = place; p; p = p.parent) tokens.push(pointerToken(p.key));
  return tokens.length === 0 ? root : `${root}/${tokens.reverse().join('/')}`;
}

function walk(root: unknown, rootPath: string, limits: Limits): BoundViolation | null {
  const stack: Array<[unknown, Place | null, number]> = [[root, null, 1]];
  while (stack.length > 0) {
    const [value, place, depth] = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return badUnicode(pointer(rootPath, place));
      if (limits.metadata && value.length > METADATA_MAX_STRING) {
        return { code: 'metadata_too_large', path: pointer(rootPath, place), message: `strings must be at most ${METADATA_MAX_STRING} characters` };
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > limits.maxDepth) {
      return { code: limits.tooDeep, path: pointer(rootPath, place), message: `nested deeper than ${limits.maxDepth} levels` };
    }
    const isArray = Array.isArray(value);
    const keys = isArray ? null : Object.keys(value);
    const count = keys ? keys.length : (value as unknown[]).length;
    if (limits.metadata && count > METADATA_MAX_ENTRIES) {
      return { code: 'metadata_too_large', path: pointer(rootPath, place), message: `objects and arrays must have at most ${METADATA_MAX_ENTRIES} entries` };
    }
    if (!keys) {
      (value as unknown[]).forEach((child, i) => stack.push([child, { parent: place, key: String(i) }, depth + 1]));
      continue;
    }
    for (const key of keys) {
      const childPlace = { parent: place, key };
      if (!key.isWellFormed()) return badUnicode(pointer(rootPath, childPlace));
      const keyProblem = limits.metadata ? metadataKeyProblem(key) : null;
      if (keyProblem) return { code: 'invalid_metadata_key', path: pointer(rootPath, childPlace), message: keyProblem };
      stack.push([(value as Record<string, unknown>)[key], childPlace, depth + 1]);
    }
  }
  return null;
}

/** Why MongoDB (or a plain object copy) could not keep this key as given, or null. */
function metadataKeyProblem(key: string): string | null {
  if (key.startsWith('$')) return 'keys must not start with "$"';
  if (key.includes('.')) return 'keys must not contain "."';
  if (key.includes('\u0000')) return 'keys must not contain the NUL character';
  // An own "__proto__" key turns into a prototype change when the object is copied by assignment.
  if (key === '__proto__') return 'the key "__proto__" is reserved';
  return null;
}

// JSON Pointer (RFC 6901) escaping, so a key holding "/" still names one step.
const pointerToken = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

const badUnicode = (path: string): BoundViolation => ({
  code: 'invalid_unicode',
  path,
  message: 'strings must be well-formed Unicode (no lone UTF-16 surrogates)',
});
