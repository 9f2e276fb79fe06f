import { describe, expect, test } from 'vitest';
import { promptFor } from './select.ts';

const feature = {
  name: 'f',
  prompts: { active: 'v1', versions: { v1: { system: 's1', user_template: 'u1' }, v2: { system: 's2', user_template: 'u2' } } },
};

describe('promptFor', () => {
  test("a variant without prompt_version gets the feature's active version", () => {
    expect(promptFor(feature, {})).toEqual({ version: 'v1', prompt: { system: 's1', user_template: 'u1' } });
  });

  test('a variant naming a version gets that one', () => {
    expect(promptFor(feature, { prompt_version: 'v2' })).toEqual({ version: 'v2', prompt: { system: 's2', user_template: 'u2' } });
  });

  test('an unknown version (or an Object.prototype name) throws rather than rendering nothing', () => {
    expect(() => promptFor(feature, { prompt_version: 'v9' })).toThrow(/no prompt version 'v9'/);
    expect(() => promptFor(feature, { prompt_version: 'constructor' })).toThrow(/no prompt version/);
  });
});
