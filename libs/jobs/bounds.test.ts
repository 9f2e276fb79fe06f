import { describe, expect, test } from 'vitest';
import { checkSubmissionBounds, INPUT_MAX_DEPTH, METADATA_MAX_BYTES, METADATA_MAX_DEPTH, METADATA_MAX_ENTRIES, METADATA_MAX_STRING } from './bounds.ts';

/** `{"a":{"a":…leaf…}}` with `levels` objects. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const base = { feature: 'f', user_id: 'u', input: { role: 'nurse', skills: ['triage'] } };

describe('checkSubmissionBounds', () => {
  test.each([
    ['a plain submission', base],
    ['metadata at the depth limit', { ...base, metadata: nested(METADATA_MAX_DEPTH) }],
    ['metadata arrays count as levels too', { ...base, metadata: { a: [[{ b: 1 }]] } }],
    ['metadata with the most entries', { ...base, metadata: Object.fromEntries(Array.from({ length: METADATA_MAX_ENTRIES }, (_, i) => [`k${i}`, i])) }],
    ['the longest metadata string', { ...base, metadata: { note: 'x'.repeat(METADATA_MAX_STRING) } }],
    ['keys Mongo accepts', { ...base, metadata: { 'a$': 1, 'with space': 2, 'ünï': 3, '': 4, constructor: 5 } }],
    ['input at the depth limit', { ...base, input: nested(INPUT_MAX_DEPTH) }],
    ['paired surrogates (emoji)', { ...base, user_id: 'u😀', metadata: { '😀': '😀' } }],
  ])('accepts %s', (_name, body) => {
    expect(checkSubmissionBounds(body)).toBeNull();
  });

  test.each([
    ['metadata one level too deep', { ...base, metadata: nested(METADATA_MAX_DEPTH + 1) }, 'metadata_too_deep', '/metadata/a/a/a/a'],
    ['metadata 100,000 levels deep', { ...base, metadata: nested(100_000) }, 'metadata_too_deep', '/metadata/a/a/a/a'],
    ['deep metadata arrays', { ...base, metadata: { a: [[[[1]]]] } }, 'metadata_too_deep', '/metadata/a/0/0/0'],
    ['too many metadata keys', { ...base, metadata: Object.fromEntries(Array.from({ length: METADATA_MAX_ENTRIES + 1 }, (_, i) => [`k${i}`, i])) }, 'metadata_too_large', '/metadata'],
    ['too many nested keys', { ...base, metadata: { a: Object.fromEntries(Array.from({ length: METADATA_MAX_ENTRIES + 1 }, (_, i) => [`k${i}`, i])) } }, 'metadata_too_large', '/metadata/a'],
    ['a long metadata string', { ...base, metadata: { a: { note: 'x'.repeat(METADATA_MAX_STRING + 1) } } }, 'metadata_too_large', '/metadata/a/note'],
    ['metadata over the byte limit', { ...base, metadata: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'é'.repeat(500)])) }, 'metadata_too_large', '/metadata'],
    ['a "$" key', { ...base, metadata: { $where: 'x' } }, 'invalid_metadata_key', '/metadata/$where'],
    ['a nested "$" key', { ...base, metadata: { a: { $set: 1 } } }, 'invalid_metadata_key', '/metadata/a/$set'],
    ['a dotted key', { ...base, metadata: { 'a.b': 1 } }, 'invalid_metadata_key', '/metadata/a.b'],
    ['a NUL in a key', { ...base, metadata: { 'a\u0000b': 1 } }, 'invalid_metadata_key', '/metadata/a\u0000b'],
    ['a "__proto__" key', { ...base, metadata: JSON.parse('{"__proto__": {"x": 1}}') as unknown }, 'invalid_metadata_key', '/metadata/__proto__'],
    ['a slash in a key is escaped in the path', { ...base, metadata: { 'a/b': { $x: 1 } } }, 'invalid_metadata_key', '/metadata/a~1b/$x'],
    ['input one level too deep', { ...base, input: nested(INPUT_MAX_DEPTH + 1) }, 'input_too_deep', `/input${'/a'.repeat(INPUT_MAX_DEPTH)}`],
    ['input 100,000 levels deep', { ...base, input: { deep: nested(100_000) } }, 'input_too_deep', undefined],
    ['a lone surrogate in metadata', { ...base, metadata: { a: 'x\ud800' } }, 'invalid_unicode', '/metadata/a'],
    ['a lone surrogate in a metadata key', { ...base, metadata: { '\udfff': 1 } }, 'invalid_unicode', '/metadata/\udfff'],
    ['a lone surrogate in input', { ...base, input: { role: ['\ud83d'] } }, 'invalid_unicode', '/input/role/0'],
    ['a lone surrogate in user_id', { ...base, user_id: '\ud800' }, 'invalid_unicode', '/user_id'],
  ])('refuses %s', (_name, body, code, path) => {
    const violation = checkSubmissionBounds(body);
    expect(violation?.code).toBe(code);
    if (path !== undefined) expect(violation?.path).toBe(path);
    expect(violation?.message.length).toBeGreaterThan(10);
  });

  test('the byte limit counts UTF-8 bytes of the JSON', () => {
    // 8 strings of 1000 ASCII characters fit in fewer than METADATA_MAX_BYTES characters of JSON, 9 do not.
    const fits = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'x'.repeat(1000)]));
    expect(checkSubmissionBounds({ ...base, metadata: fits })).toBeNull();
    expect(Buffer.byteLength(JSON.stringify({ ...fits, k8: 'x'.repeat(1000) }))).toBeGreaterThan(METADATA_MAX_BYTES);
    expect(checkSubmissionBounds({ ...base, metadata: { ...fits, k8: 'x'.repeat(1000) } })?.code).toBe('metadata_too_large');
  });
});
