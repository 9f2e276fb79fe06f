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
  /** 1 for a row whose category and holdout were recorded (ExperimentRow.assignment_known). */
  assignmentKnown: Uint8Array;
  /** US dollars (0 when the row has none). */
  cost: Float64Array;
  inputTokens: Float64Array;
  outputTokens: Float64Array;
  /** Provider milliseconds of model-served realtime answers; NaN for every other row (batch answers included). */
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
export function rowTable(rows: Iterable<ExperimentRow>, configuredVariants: readonly string[]): RowTable {
  const builder = new RowTableBuilder(configuredVariants);
  for (const row of rows) builder.add(row);
  return builder.finish();
}

/** Columns a builder fills, grown by doubling. */
type Columns = Pick<RowTable, 'arm' | 'unit' | 'status' | 'servedBy' | 'degraded' | 'modelServed' | 'assignmentKnown' | 'cost' | 'inputTokens' | 'outputTokens' | 'latency' | 'rating'> & {
  sector: Int32Array;
  degree_level: Int32Array;
  experience_band: Int32Array;
};

function columns(capacity: number, from?: Columns): Columns {
  const grow = <T extends Int32Array | Uint8Array | Float64Array>(make: new (n: number) => T, old: T | undefined, fill?: number): T => {
    const next = new make(capacity);
    if (fill !== undefined) next.fill(fill, old?.length ?? 0);
    if (old) next.set(old as ArrayLike<number>);
    return next;
  };
  return {
    arm: grow(Int32Array, from?.arm),
    unit: grow(Int32Array, from?.unit),
    sector: grow(Int32Array, from?.sector),
    degree_level: grow(Int32Array, from?.degree_level),
    experience_band: grow(Int32Array, from?.experience_band),
    status: grow(Uint8Array, from?.status),
    servedBy: grow(Uint8Array, from?.servedBy),
    degraded: grow(Uint8Array, from?.degraded),
    modelServed: grow(Uint8Array, from?.modelServed),
    assignmentKnown: grow(Uint8Array, from?.assignmentKnown),
    cost: grow(Float64Array, from?.cost),
    inputTokens: grow(Float64Array, from?.inputTokens),
    outputTokens: grow(Float64Array, from?.outputTokens),
    latency: grow(Float64Array, from?.latency, NaN),
    rating: grow(Float64Array, from?.rating, NaN),
  };
}

const HOLDOUT_MARK = -2;

/**
 * A RowTable built one row at a time: a report streams its rows from the store through here
 * (and the cost analysis) without holding a month of row objects at once.
 */
export class RowTableBuilder {
  readonly #configured: number;
  readonly #variantCoder = coder();
  readonly #unitCoder = coder();
  readonly #fieldCoders = { sector: coder(), degree_level: coder(), experience_band: coder() };
  #t: Columns = columns(4096);
  #n = 0;
  #unassignedJobs = 0;
  #holdoutJobs = 0;

  constructor(configuredVariants: readonly string[]) {
    for (const name of configuredVariants) this.#variantCoder.code(name);
    this.#configured = configuredVariants.length;
  }

  /** Adds one row. */
  add(row: ExperimentRow): void {
    if (this.#n === this.#t.arm.length) this.#t = columns(this.#n * 2, this.#t);
    const t = this.#t;
    const i = this.#n++;
    if (row.holdout) this.#holdoutJobs++;
    else if (row.variant === '') this.#unassignedJobs++;
    t.arm[i] = row.holdout ? HOLDOUT_MARK : row.variant === '' ? UNASSIGNED : this.#variantCoder.code(row.variant);
    t.unit[i] = this.#unitCoder.code(row.unit);
    t.sector[i] = this.#fieldCoders.sector.code(row.sector);
    t.degree_level[i] = this.#fieldCoders.degree_level.code(row.degree_level);
    t.experience_band[i] = this.#fieldCoders.experience_band.code(row.experience_band);
    t.status[i] = statusCode(row.status);
    t.servedBy[i] = servedByCode(row.served_by);
    t.degraded[i] = row.status === 'completed' && row.degraded ? 1 : 0;
    t.cost[i] = row.cost_usd ?? 0;
    t.assignmentKnown[i] = row.assignment_known ? 1 : 0;
    if (!servedByOwnModel(row)) return;
    t.modelServed[i] = 1;
    t.inputTokens[i] = row.input_tokens ?? 0;
    t.outputTokens[i] = row.output_tokens ?? 0;
    // A batch answer's latency is its batch's turnaround, not the model's: it would swamp the comparison.
    if (row.provider_latency_ms !== null && row.lane !== 'batch') t.latency[i] = row.provider_latency_ms;
    if (row.rating !== null) t.rating[i] = row.rating;
  }

  /** The table of the rows added. */
  finish(): RowTable {
    const n = this.#n;
    const cut = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => a.subarray(0, n) as T;
    const t = this.#t;
    // Variants only the rows name (renamed or removed from the config) follow the configured ones, by name.
    const seen = this.#variantCoder.names;
    const variants = [...seen.slice(0, this.#configured), ...seen.slice(this.#configured).sort()];
    const remap = Int32Array.from(seen, (name) => variants.indexOf(name));
    const holdoutArm = variants.length;
    const arm = cut(t.arm);
    for (let i = 0; i < n; i++) {
      const a = arm[i]!;
      arm[i] = a === HOLDOUT_MARK ? holdoutArm : a === UNASSIGNED ? UNASSIGNED : remap[a]!;
    }
    const categories = Object.fromEntries(CATEGORY_FIELDS.map((f) => [f, { names: this.#fieldCoders[f].names, index: cut(t[f]) }])) as Record<CategoryField, Coded>;
    return {
      rows: n,
      variants,
      holdoutArm,
      units: this.#unitCoder.names.length,
      unassignedJobs: this.#unassignedJobs,
      holdoutJobs: this.#holdoutJobs,
      arm,
      unit: cut(t.unit),
      categories,
      status: cut(t.status),
      servedBy: cut(t.servedBy),
      degraded: cut(t.degraded),
      modelServed: cut(t.modelServed),
      assignmentKnown: cut(t.assignmentKnown),
      cost: cut(t.cost),
      inputTokens: cut(t.inputTokens),
      outputTokens: cut(t.outputTokens),
      latency: cut(t.latency),
      rating: cut(t.rating),
    };
  }
}
