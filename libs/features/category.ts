/**
 * The category of a career_path_navigator request: a few coarse, low-cardinality facts derived from
 * its input. A/B overrides match on it, the cache keys its category-level fallback by it, and
 * reports group by it, so all three must agree on one derivation: this one.
 */

/** A request's category; every field is a short slug, `unknown` when the input lacks it. */
export interface Category {
  /** `target_sector` lower-cased and slugged, e.g. "Renewable Energy" -> `renewable_energy`. */
  sector: string;
  /** `degree.level`, e.g. `bachelor`. */
  degree_level: string;
  /** One of EXPERIENCE_BANDS, from `years_experience`. */
  experience_band: string;
}

/** Value of a category field the input does not provide. */
export const UNKNOWN = 'unknown';

/** Longest slug kept, in characters; longer sectors are cut so report and metric labels stay short. */
export const MAX_SLUG_LENGTH = 64;

/** Experience bands by whole years (upper bound inclusive), in order; above the last is `20+`. */
export const EXPERIENCE_BANDS: readonly { band: string; maxYears: number }[] = [
  { band: '0-2', maxYears: 2 },
  { band: '3-5', maxYears: 5 },
  { band: '6-10', maxYears: 10 },
  { band: '11-20', maxYears: 20 },
];

/** Band for years of experience above the last of EXPERIENCE_BANDS. */
export const TOP_BAND = '20+';

/**
 * Lower-case slug of free text: accents dropped, runs of anything but letters and digits become
 * one `_`, no leading or trailing `_`, at most MAX_SLUG_LENGTH characters; UNKNOWN when empty.
 */
export function slug(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/^_+|_+$/g, '');
  return s || UNKNOWN;
}

/** The band for `years` of experience (fractions count as the whole years completed); UNKNOWN for a non-number or a negative one. */
export function experienceBand(years: unknown): string {
  if (typeof years !== 'number' || !Number.isFinite(years) || years < 0) return UNKNOWN;
  const whole = Math.floor(years);
  return EXPERIENCE_BANDS.find((b) => whole <= b.maxYears)?.band ?? TOP_BAND;
}

/** The category of a career_path_navigator input (already validated, but tolerant of gaps). */
export function deriveCategory(input: Record<string, unknown>): Category {
  const sector = input['target_sector'];
  const degree = input['degree'];
  const level = degree !== null && typeof degree === 'object' ? (degree as Record<string, unknown>)['level'] : undefined;
  return {
    sector: typeof sector === 'string' ? slug(sector) : UNKNOWN,
    degree_level: typeof level === 'string' ? slug(level) : UNKNOWN,
    experience_band: experienceBand(input['years_experience']),
  };
}

/** The fields of a Category, which override `match` keys may name. */
export const CATEGORY_FIELDS: readonly (keyof Category)[] = ['sector', 'degree_level', 'experience_band'];

/** One problem with a `match` object: the key it concerns and what is wrong. */
export interface MatchProblem {
  key: string;
  message: string;
}

/** The degree levels a feature's input schema allows (`degree.level`'s enum), slugged; null when it declares none. */
export function knownDegreeLevels(inputSchema: Record<string, unknown>): string[] | null {
  const props = (inputSchema['properties'] ?? {}) as Record<string, { properties?: Record<string, { enum?: unknown[] }> }>;
  const levels = props['degree']?.properties?.['level']?.enum;
  return Array.isArray(levels) ? levels.filter((v): v is string => typeof v === 'string').map(slug) : null;
}

/**
 * The problems of an override's `match` against the category fields: a key that is no category
 * field (a typo such as `sectr` would never match), or a value deriveCategory can never produce: a
 * sector not in slug form (`Healthcare` for `healthcare`), a degree level outside the input
 * schema's enum, an experience band not in EXPERIENCE_BANDS or TOP_BAND. [] when sound.
 */
export function matchProblems(match: Record<string, string>, inputSchema: Record<string, unknown>): MatchProblem[] {
  const out: MatchProblem[] = [];
  const bands = [...EXPERIENCE_BANDS.map((b) => b.band), TOP_BAND];
  const levels = knownDegreeLevels(inputSchema);
  for (const [key, value] of Object.entries(match)) {
    if (!(CATEGORY_FIELDS as readonly string[]).includes(key)) {
      out.push({ key, message: `'${key}' is not a category field (one of ${CATEGORY_FIELDS.join(', ')})` });
    } else if (key === 'sector' && (slug(value) !== value || value === UNKNOWN)) {
      out.push({ key, message: `sector '${value}' never matches: sectors are compared as slugs${slug(value) === UNKNOWN ? '' : ` ('${slug(value)}')`}` });
    } else if (key === 'degree_level' && levels !== null && !levels.includes(value)) {
      out.push({ key, message: `degree level '${value}' is not one of ${levels.join(', ')}` });
    } else if (key === 'experience_band' && !bands.includes(value)) {
      out.push({ key, message: `experience band '${value}' is not one of ${bands.join(', ')}` });
    }
  }
  return out;
}
