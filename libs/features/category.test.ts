import { describe, expect, test } from 'vitest';
import { deriveCategory, experienceBand, knownDegreeLevels, matchProblems, MAX_SLUG_LENGTH, slug } from './category.ts';

const input = {
  current_role: 'Registered Nurse',
  degree: { level: 'bachelor', field: 'Nursing' },
  years_experience: 6,
  skills: ['triage'],
  target_sector: '  Health Tech ',
};

describe('deriveCategory', () => {
  test('derives sector, degree level and experience band', () => {
    expect(deriveCategory(input)).toEqual({ sector: 'health_tech', degree_level: 'bachelor', experience_band: '6-10' });
  });

  test('matches the sector an A/B override names, whatever the spelling', () => {
    for (const s of ['Healthcare', ' healthcare', 'HEALTHCARE  ']) expect(deriveCategory({ ...input, target_sector: s }).sector).toBe('healthcare');
  });

  test('answers unknown for missing or malformed fields', () => {
    expect(deriveCategory({})).toEqual({ sector: 'unknown', degree_level: 'unknown', experience_band: 'unknown' });
    expect(deriveCategory({ target_sector: 42, degree: 'phd', years_experience: '5' })).toEqual({ sector: 'unknown', degree_level: 'unknown', experience_band: 'unknown' });
    expect(deriveCategory({ ...input, target_sector: ' -- ' }).sector).toBe('unknown');
  });
});

describe('slug', () => {
  test('collapses punctuation and whitespace, drops accents', () => {
    expect(slug('Renewable   energy / Solar')).toBe('renewable_energy_solar');
    expect(slug('Santé & Bien-être')).toBe('sante_bien_etre');
    expect(slug('high_school')).toBe('high_school');
  });

  test('is bounded in length', () => {
    expect(slug('x'.repeat(500))).toHaveLength(MAX_SLUG_LENGTH);
    expect(slug(`${'a'.repeat(MAX_SLUG_LENGTH - 1)} b`)).toBe('a'.repeat(MAX_SLUG_LENGTH - 1));
  });
});

describe('experienceBand', () => {
  test.each([
    [0, '0-2'],
    [2, '0-2'],
    [2.9, '0-2'],
    [3, '3-5'],
    [5, '3-5'],
    [6, '6-10'],
    [10, '6-10'],
    [11, '11-20'],
    [20, '11-20'],
    [20.5, '11-20'],
    [21, '20+'],
    [60, '20+'],
  ])('%d years -> %s', (years, band) => {
    expect(experienceBand(years)).toBe(band);
  });

  test('is unknown for negative and non-finite values', () => {
    expect(experienceBand(-1)).toBe('unknown');
    expect(experienceBand(Number.NaN)).toBe('unknown');
    expect(experienceBand(undefined)).toBe('unknown');
  });
});

describe('matchProblems', () => {
  const schema = { type: 'object', properties: { degree: { type: 'object', properties: { level: { type: 'string', enum: ['none', 'bachelor', 'master'] } } } } };

  test.each([
    ['a sound match', { sector: 'healthcare', degree_level: 'master', experience_band: '20+' }, []],
    ['a misspelt key', { sectr: 'healthcare' }, ['sectr']],
    ['a sector not in slug form', { sector: 'Healthcare' }, ['sector']],
    ['a sector that slugs to nothing', { sector: '--' }, ['sector']],
    ['a degree level outside the schema enum', { degree_level: 'phd' }, ['degree_level']],
    ['an experience band that is not one', { experience_band: '2-5' }, ['experience_band']],
  ] as const)('%s', (_name, match, keys) => {
    expect(matchProblems(match, schema).map((p) => p.key)).toEqual(keys);
  });

  test('names the slug a sector should have been written as', () => {
    expect(matchProblems({ sector: 'Renewable Energy' }, schema)[0]?.message).toContain("'renewable_energy'");
  });

  test('without a degree enum in the schema, any degree level slug is accepted', () => {
    expect(knownDegreeLevels({ properties: {} })).toBeNull();
    expect(matchProblems({ degree_level: 'phd' }, { properties: {} })).toEqual([]);
  });
});
