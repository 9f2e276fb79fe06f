/**
 * The one ajv set-up the gateway uses, for config files and for request bodies, so that both
 * accept the same schemas and report errors the same way.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { ErrorDetail } from '../errors/index.ts';

/**
 * A fresh ajv (draft-07) with every error reported, ajv-formats, and strict mode: unknown
 * keywords and formats are refused, and types must be declared where keywords need them.
 * Union types (`["number", "null"]`) are allowed. `overrides` are passed to ajv as-is.
 */
export function createAjv(overrides: Options = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: true,
    strictTuples: true,
    strictRequired: false,
    allowUnionTypes: true,
    ...overrides,
  });
  // ajv-formats is CommonJS; under nodenext its default export is the module object.
  addFormats.default(ajv);
  return ajv;
}

/** Most details returned for one validation, so a hostile body cannot produce a huge answer. */
export const MAX_ERROR_DETAILS = 50;

/**
 * ajv errors as GatewayError details: `path` is `prefix` + the JSON pointer of the offending
 * value (`/` when both are empty), `message` says what is wrong in words a caller can act on.
 */
export function toErrorDetails(errors: readonly ErrorObject[] | null | undefined, prefix = ''): ErrorDetail[] {
  if (!errors) return [];
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const e of errors) {
    const path = `${prefix}${e.instancePath}` || '/';
    const message = describe(e);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message });
    if (details.length >= MAX_ERROR_DETAILS) break;
  }
  return details;
}

function describe(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `must not have the property '${String(params['additionalProperty'])}'`;
    case 'enum':
      return `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    default:
      return e.message ?? `fails the '${e.keyword}' rule`;
  }
}
