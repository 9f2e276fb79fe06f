import { describe, expect, test } from 'vitest';
import { mergeConfigUpdate } from './operatorUpdate.ts';

const running = { 'rate_limits.json': '{"a":1}', 'features/x.json': '{}' };

describe('mergeConfigUpdate', () => {
  test('replaces, adds and removes files over the running ones', () => {
    expect(mergeConfigUpdate(running, { files: { 'rate_limits.json': { a: 2 }, 'features/y.json': '{"b":1}', 'features/x.json': null } })).toEqual({
      'rate_limits.json': '{\n  "a": 2\n}\n',
      'features/y.json': '{"b":1}',
    });
  });

  test.each([
    ['no body', null],
    ['no files', {}],
    ['empty files', { files: {} }],
    ['files as an array', { files: [] }],
    ['a path outside the config', { files: { '../etc/passwd': 'x' } }],
    ['a schema', { files: { 'schemas/feature.schema.json': {} } }],
    ['removing a top-level file', { files: { 'rate_limits.json': null } }],
  ])('refuses %s', (_name, body) => {
    expect(() => mergeConfigUpdate(running, body)).toThrow(expect.objectContaining({ code: 'invalid_config_update', status: 400 }));
  });
});
