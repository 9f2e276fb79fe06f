import { describe, expect, test } from 'vitest';
import { SHARED_SCOPE, cacheKey, cacheScope, canonicalInput, categoryKey, type CacheKeyParts } from './key.ts';

const keyFields = ['current_role', 'degree', 'years_experience', 'skills', 'target_sector', 'goals', 'location', 'market_data'];
const base: CacheKeyParts = {
  scope: cacheScope('acme'),
  feature: 'career_path_navigator',
  promptVersion: 'v1',
  variant: 'gpt4',
  keyFields,
  input: {
    current_role: 'Data Analyst',
    degree: { level: 'bachelor', field: 'Statistics' },
    years_experience: 4,
    skills: ['SQL', 'Python', 'Tableau'],
    target_sector: 'Renewable energy',
    market_data: { demand_trend: 'rising', top_skills: ['python', 'GIS'] },
  },
};
const withInput = (patch: Record<string, unknown>): CacheKeyParts => ({ ...base, input: { ...base.input, ...patch } });
const key = cacheKey(base);

describe('cacheKey', () => {
  test('is a base64url sha256', () => {
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('ignores case, spacing, skill order, duplicates and object key order', () => {
    expect(
      cacheKey({
        ...base,
        keyFields: [...keyFields].reverse(),
        input: {
          market_data: { top_skills: ['gis', ' Python', 'GIS'], demand_trend: 'Rising' },
          target_sector: '  renewable\tENERGY ',
          skills: ['tableau', 'python ', 'sql', 'SQL'],
          years_experience: 4,
          degree: { field: 'statistics', level: 'Bachelor' },
          current_role: 'data   analyst',
        },
      }),
    ).toBe(key);
  });

  test('treats empty strings and nulls like a missing field, as the prompt does', () => {
    expect(cacheKey(withInput({ goals: '' }))).toBe(key);
    expect(cacheKey(withInput({ goals: '   ' }))).toBe(key);
    expect(cacheKey(withInput({ location: null }))).toBe(key);
  });

  test('differs by variant, prompt version and feature', () => {
    expect(cacheKey({ ...base, variant: 'claude' })).not.toBe(key);
    expect(cacheKey({ ...base, promptVersion: 'v2' })).not.toBe(key);
    expect(cacheKey({ ...base, feature: 'other' })).not.toBe(key);
  });

  test('differs by client unless the feature shares its cache', () => {
    expect(cacheKey({ ...base, scope: cacheScope('globex') })).not.toBe(key);
    expect(cacheScope('acme', 'shared')).toBe(SHARED_SCOPE);
    expect(cacheScope('globex', 'shared')).toBe(cacheScope('acme', 'shared'));
    // A client id cannot pose as the shared scope.
    expect(cacheScope('*')).not.toBe(SHARED_SCOPE);
  });

  test('differs by any key field value', () => {
    expect(cacheKey(withInput({ years_experience: 5 }))).not.toBe(key);
    expect(cacheKey(withInput({ skills: ['SQL', 'Python'] }))).not.toBe(key);
    expect(cacheKey(withInput({ goals: 'lead a team' }))).not.toBe(key);
    expect(cacheKey(withInput({ degree: { level: 'master', field: 'Statistics' } }))).not.toBe(key);
  });

  test('counts only the key fields', () => {
    const narrow = { ...base, keyFields: ['current_role', 'degree.level'] };
    const k = cacheKey(narrow);
    expect(cacheKey({ ...narrow, input: { ...base.input, years_experience: 30, skills: ['cobol'], degree: { level: 'bachelor', field: 'Art' } } })).toBe(k);
    expect(cacheKey({ ...narrow, input: { ...base.input, degree: { level: 'master', field: 'Statistics' } } })).not.toBe(k);
    expect(cacheKey(withInput({ user_note: 'not a key field' }))).toBe(key);
  });

  test('does not confuse a value with its string form or with the next field', () => {
    expect(cacheKey(withInput({ years_experience: '4' }))).not.toBe(key);
    expect(cacheKey({ ...base, variant: 'gpt4v1', promptVersion: '' })).not.toBe(cacheKey({ ...base, variant: 'gpt4', promptVersion: 'v1' }));
  });
});

describe('canonicalInput', () => {
  test('reads dotted paths and leaves out absent ones', () => {
    expect(canonicalInput(base.input, ['degree.level', 'nope.deeper', 'skills'])).toEqual({ 'degree.level': 'bachelor', skills: ['python', 'sql', 'tableau'] });
  });

  test('keeps the order of arrays that are not all strings', () => {
    expect(canonicalInput({ a: [3, 1, 2] }, ['a'])).toEqual({ a: [3, 1, 2] });
  });
});

describe('categoryKey', () => {
  const category = { sector: 'healthcare', degree_level: 'bachelor', experience_band: '3-5' };
  test('differs from the request key and by client, variant and category', () => {
    const k = categoryKey(base, category);
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k).not.toBe(key);
    expect(categoryKey({ ...base, variant: 'claude' }, category)).not.toBe(k);
    expect(categoryKey(base, { ...category, experience_band: '6-10' })).not.toBe(k);
    expect(categoryKey({ ...base, scope: cacheScope('globex') }, category)).not.toBe(k);
    expect(categoryKey({ scope: base.scope, feature: base.feature, promptVersion: 'v1', variant: 'gpt4' }, { ...category })).toBe(k);
  });
});
