/**
 * The experiment's rows as parallel typed arrays, built in one pass: each row's arm, unit and
 * category values become small integers, its figures numbers. Every later step (per-variant and
 * per-category samples, the sample-ratio check) then loops over numbers instead of looking up
 * strings again, which is what keeps a 300,000-row report well under a second.
 */
import type { ExperimentRow } from '../store/types.ts';
import type { ServedByKey } from './reportTypes.ts';

/** The category fields the report breaks comparisons down by. */
export const CATEGORY_FIELDS = ['sector', 'degree_level', 'experience_band'] as const;

/** One of CATEGORY_FIELDS. */
export type CategoryField = (typeof CATEGORY_FIELDS)[number];

/** The paths that can answer a job, in report order; a row's `servedBy` code indexes it. */
export const SERVED_BY_KEYS = ['provider', 'failover', 'downgrade', 'cache', 'stale_cache', 'category_cache', 'degraded', 'unknown'] as const satisfies readonly ServedByKey[];

/** Index of `servedBy` in SERVED_BY_KEYS (`unknown` for null or a value it does not list); a scan, since most rows match the first. */
function servedByCode(servedBy: string | null): number {
  for (let k = 0; k < SERVED_BY_KEYS.length - 1; k++) if (SERVED_BY_KEYS[k] === servedBy) return k;
  return SERVED_BY_KEYS.length - 1;
}

/** Status codes of the `status` column. */
export const STATUS = { other: 0, completed: 1, failed: 2, rejected: 3 } as const;

/** `arm` of a row that ended before a variant was assigned. */
export const UNASSIGNED = -1;

/** Distinct strings of one column, as indices into `names`. */
export interface Coded {
  names: string[];
  index: Int32Array;
}

/** The rows, column by column (row i of every array is row i of the input). */
export interface RowTable {
  rows: number;
  /** Variant names by arm index: configured variants in order, then variants only the rows name, by name. */
  variants: string[];
  /** Arm of each row: a variant index, `holdoutArm`, or UNASSIGNED. */
  arm: Int32Array;
  /** The arm index of holdout rows (variants.length). */
  holdoutArm: number;
  /** Assignment unit of each row, as a dense id below `units`. */
  unit: Int32Array;
  units: number;
  categories: Record<CategoryField, Coded>;
  /** A STATUS code. */
  status: Uint8Array;
  /** Index into SERVED_BY_KEYS (completed rows). */
  servedBy: Uint8Array;
  /** 1 for a completed job answered by the degraded fallback. */
  degraded: Uint8Array;
  /** 1 for a job the variant's own model answered (servedByOwnModel). */
  modelServed: Uint8Array;
  /** US dollars (0 when the row has none). */
  cost: Float64Array;
  inputTokens: Float64Array;
  outputTokens: Float64Array;
  /** Provider milliseconds of model-served answers; NaN for every other row. */
  latency: Float64Array;
  /** Rating (1-5) of model-served answers; NaN for every other row. */
  rating: Float64Array;
  unassignedJobs: number;
  holdoutJobs: number;
}

/** True for a job the variant's own model answered: the only ones that say which model is better. */
export function servedByOwnModel(row: ExperimentRow): boolean {
  return row.status === 'completed' && row.served_by === 'provider' && !row.degraded;
}

function coder(): { code: (s: string) => number; names: string[] } {
  const ids = new Map<string, number>();
  const names: string[] = [];
  return {
    names,
    code(s) {
      let id = ids.get(s);
      if (id === undefined) {
        ids.set(s, (id = names.length));
        names.push(s);
      }
      return id;
    },
  };
}

function statusCode(status: string): number {
  return status === 'completed' ? STATUS.completed : status === 'failed' ? STATUS.failed : status === 'rejected' ? STATUS.rejected : STATUS.other;
}

/** The table of `rows`; `configuredVariants` get the first arm indices, in order, even without rows. */
export function rowTable(rows: readonly ExperimentRow[], configuredVariants: readonly string[]): RowTable {
  const n = rows.length;
  const variantCoder = coder();
  for (const name of configuredVariants) variantCoder.code(name);
  const unitCoder = coder();
  const fieldCoders = { sector: coder(), degree_level: coder(), experience_band: coder() };
  const t = {
    arm: new Int32Array(n),
    unit: new Int32Array(n),
    categories: Object.fromEntries(CATEGORY_FIELDS.map((f) => [f, { names: fieldCoders[f].names, index: new Int32Array(n) }])) as Record<CategoryField, Coded>,
    status: new Uint8Array(n),
    servedBy: new Uint8Array(n),
    degraded: new Uint8Array(n),
    modelServed: new Uint8Array(n),
    cost: new Float64Array(n),
    inputTokens: new Float64Array(n),
    outputTokens: new Float64Array(n),
    latency: new Float64Array(n).fill(NaN),
    rating: new Float64Array(n).fill(NaN),
  };
  // Locals rather than lookups by field name: this loop runs once per row.
  const [sectorCode, degreeCode, bandCode] = [fieldCoders.sector.code, fieldCoders.degree_level.code, fieldCoders.experience_band.code];
  const [sectorIndex, degreeIndex, bandIndex] = [t.categories.sector.index, t.categories.degree_level.index, t.categories.experience_band.index];
  const HOLDOUT_MARK = -2;
  let unassignedJobs = 0;
  let holdoutJobs = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    if (row.holdout) holdoutJobs++;
    else if (row.variant === '') unassignedJobs++;
    t.arm[i] = row.holdout ? HOLDOUT_MARK : row.variant === '' ? UNASSIGNED : variantCoder.code(row.variant);
    t.unit[i] = unitCoder.code(row.unit);
    sectorIndex[i] = sectorCode(row.sector);
    degreeIndex[i] = degreeCode(row.degree_level);
    bandIndex[i] = bandCode(row.experience_band);
    t.status[i] = statusCode(row.status);
    t.servedBy[i] = servedByCode(row.served_by);
    t.degraded[i] = row.status === 'completed' && row.degraded ? 1 : 0;
    t.cost[i] = row.cost_usd ?? 0;
    if (!servedByOwnModel(row)) continue;
    t.modelServed[i] = 1;
    t.inputTokens[i] = row.input_tokens ?? 0;
    t.outputTokens[i] = row.output_tokens ?? 0;
    if (row.provider_latency_ms !== null) t.latency[i] = row.provider_latency_ms;
    if (row.rating !== null) t.rating[i] = row.rating;
  }
  // Variants only the rows name (renamed or removed from the config) follow the configured ones, by name.
  const seen = variantCoder.names;
  const variants = [...seen.slice(0, configuredVariants.length), ...seen.slice(configuredVariants.length).sort()];
  const remap = Int32Array.from(seen, (name) => variants.indexOf(name));
  const holdoutArm = variants.length;
  for (let i = 0; i < n; i++) {
    const arm = t.arm[i]!;
    t.arm[i] = arm === HOLDOUT_MARK ? holdoutArm : arm === UNASSIGNED ? UNASSIGNED : remap[arm]!;
  }
  return { rows: n, variants, holdoutArm, units: unitCoder.names.length, unassignedJobs, holdoutJobs, ...t };
}
