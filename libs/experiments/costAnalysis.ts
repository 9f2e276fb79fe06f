/**
 * Where an experiment's money and time go: spend by variant, category and day, the month's
 * projection, what other splits would cost, what the cache saved, and the parts of a job's time.
 * Pure arithmetic over the store's rows in one pass (300,000 rows in tens of milliseconds), no I/O.
 */
import { quickselect } from 'simple-statistics';
import type { ExperimentRow, ServedBy } from '../store/types.ts';
import type { CostAnalysis, TimePercentiles } from './reportTypes.ts';
import { laneSplit, newLaneTally, variantLanes, type LaneTally } from './laneSplit.ts';
import { CATEGORY_FIELDS, servedByOwnModel } from './rowTable.ts';

/** What the cost analysis needs beyond the rows. */
export interface CostInput {
  /** The experiment's variants in configured order, with their configured weights (any scale). */
  variants: readonly { name: string; weight: number }[];
  /** The moment the analysis is made: its UTC month is the one projected. */
  now: Date;
  /** ISO-8601 UTC start of the report window (rows are created at or after it). */
  since: string;
}

const DAY_MS = 86_400_000;
const MICROS_PER_USD = 1_000_000;
const CACHE_PATHS: ReadonlySet<ServedBy> = new Set(['cache', 'stale_cache', 'category_cache']);

/**
 * The cost analysis of an experiment's rows.
 *
 * - Every row's `cost_usd` counts in spend, holdout rows included: they cost money even though
 *   they stay out of the comparison (they count under the variant that served them, the control).
 *   Rows with variant `''` (jobs that ended before assignment) count in the day, category and month
 *   totals but under no variant.
 * - `month`: the UTC month of `now`. `spent_usd` sums rows created in it. The daily rate is that sum
 *   over `days_elapsed`: the UTC calendar days from the first day with data this month through
 *   today, inclusive (at least 1), so an experiment started mid-month is not diluted by the days
 *   before it. `projected_usd` = spent + daily rate × the days after today.
 * - `alternative_splits`: the configured split first, then everything on each variant, then 50/50
 *   (two variants only), duplicates dropped. Each costs the monthly volume (assigned non-holdout
 *   jobs per day over the observed window — from the later of `since` and the first row to `now`,
 *   at least one day — × days in the month) × Σ share × the variant's mean cost per job. A split
 *   giving a share to a variant without jobs has no known cost and is left out.
 *   `saving_vs_current_usd` is the configured split's cost minus this one's (positive: cheaper).
 * - `cache_saved_usd`: completed cache-served jobs (`cache`, `stale_cache`, `category_cache`, or
 *   cache = hit) × their variant's mean cost of jobs its own model served.
 * - `time_ms`: over completed rows; gateway time = total − queue − provider, at least 0.
 * - `lanes`: each variant's non-holdout jobs (the comparison's) by `lane`, with spend and mean cost
 *   per job per lane and the batch share (laneSplit.ts).
 * Money is summed in integer micro-dollars and answered in dollars rounded to the micro-dollar.
 */
export function analyseCosts(rows: Iterable<ExperimentRow>, input: CostInput): CostAnalysis {
  const costs = new CostAccumulator(input);
  for (const row of rows) costs.add(row);
  return costs.result();
}

/** analyseCosts one row at a time, so a report can stream its rows instead of holding them all. */
export class CostAccumulator {
  readonly #input: CostInput;
  readonly #variants: Map<string, VariantTally>;
  // One map per field (not a joined key): no string building per row.
  readonly #byCategory = CATEGORY_FIELDS.map(() => new Map<string, number>());
  readonly #byDay = new Map<string, DayTally>();
  #dayTally: DayTally | undefined;
  readonly #month: string;
  #monthSpentMicros = 0;
  #firstDayThisMonth: string | null = null;
  #firstCreated: string | null = null;
  #assignedJobs = 0;
  readonly #times = new TimeSamples();

  constructor(input: CostInput) {
    this.#input = input;
    this.#variants = new Map<string, VariantTally>(input.variants.map((v) => [v.name, newTally()]));
    this.#month = input.now.toISOString().slice(0, 7);
  }

  /** Counts one row. */
  add(row: ExperimentRow): void {
    // Integer micro-dollars: sums stay exact however many rows are added.
    const cost = Math.round((row.cost_usd ?? 0) * MICROS_PER_USD);
    // A row without a creation date (never written by the stores) counts in every total but no day.
    const dated = row.created_at.length >= 10;
    if (dated && (this.#firstCreated === null || row.created_at < this.#firstCreated)) this.#firstCreated = row.created_at;
    addTo(this.#byCategory[0]!, row.sector, cost);
    addTo(this.#byCategory[1]!, row.degree_level, cost);
    addTo(this.#byCategory[2]!, row.experience_band, cost);
    // Rows come mostly in time order: reuse the previous row's day rather than slicing and hashing.
    let dayTally = this.#dayTally;
    if (!dated) dayTally = undefined;
    else if (dayTally === undefined || !row.created_at.startsWith(dayTally.day)) {
      const day = row.created_at.slice(0, 10);
      dayTally = this.#byDay.get(day);
      if (!dayTally) this.#byDay.set(day, (dayTally = { day, micros: 0, byVariant: new Map() }));
      this.#dayTally = dayTally;
    }
    if (dayTally) {
      dayTally.micros += cost;
      if (dayTally.day.startsWith(this.#month)) {
        this.#monthSpentMicros += cost;
        if (this.#firstDayThisMonth === null || dayTally.day < this.#firstDayThisMonth) this.#firstDayThisMonth = dayTally.day;
      }
    }
    if (row.status === 'completed') this.#times.add(row);
    if (row.variant === '') return;

    if (dayTally) addTo(dayTally.byVariant, row.variant, cost);
    let tally = this.#variants.get(row.variant);
    if (!tally) this.#variants.set(row.variant, (tally = newTally()));
    tally.micros += cost;
    tally.jobs++;
    if (!row.holdout) {
      this.#assignedJobs++;
      const lane = row.lane === 'batch' ? tally.batch : tally.realtime;
      lane.jobs++;
      lane.micros += cost;
    }
    if (row.status !== 'completed') return;
    if (CACHE_PATHS.has(row.served_by as ServedBy) || row.cache === 'hit') tally.cacheServed++;
    else if (servedByOwnModel(row)) {
      tally.modelServed++;
      tally.modelServedMicros += cost;
    }
  }

  /** The analysis of the rows added so far. */
  result(): CostAnalysis {
    const input = this.#input;
    const variants = this.#variants;
    const daysInMonth = daysInUtcMonth(input.now);
    const today = input.now.getUTCDate();
    const daysElapsed = this.#firstDayThisMonth === null ? 1 : Math.max(1, today - Number(this.#firstDayThisMonth.slice(8, 10)) + 1);
    const dailyRateMicros = this.#monthSpentMicros / daysElapsed;
    const windowStartMs = Math.max(Date.parse(input.since), this.#firstCreated === null ? -Infinity : Date.parse(this.#firstCreated));
    const windowDays = Math.max(1, (input.now.getTime() - windowStartMs) / DAY_MS);
    const monthlyJobs = (this.#assignedJobs / windowDays) * daysInMonth;

    const variantNames = [...variants.keys()];
    return {
      by_variant: variantNames.map((variant) => ({ variant, usd: usdOf(variants.get(variant)!.micros) })),
      by_category: CATEGORY_FIELDS.flatMap((field, i) => [...this.#byCategory[i]!].map(([value, micros]) => ({ field, value, usd: usdOf(micros) }))),
      by_day: [...this.#byDay]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([day, t]) => ({ day, usd: usdOf(t.micros), by_variant: Object.fromEntries(variantNames.map((v) => [v, usdOf(t.byVariant.get(v) ?? 0)])) })),
      month: {
        month: this.#month,
        spent_usd: usdOf(this.#monthSpentMicros),
        daily_rate_usd: usdOf(dailyRateMicros),
        projected_usd: usdOf(this.#monthSpentMicros + dailyRateMicros * (daysInMonth - today)),
        days_elapsed: daysElapsed,
        days_in_month: daysInMonth,
      },
      alternative_splits: alternativeSplits(input.variants, variants, monthlyJobs),
      cache_saved_usd: usdOf(
        [...variants.values()].reduce((sum, t) => sum + (t.modelServed > 0 ? t.cacheServed * (t.modelServedMicros / t.modelServed) : 0), 0),
      ),
      time_ms: this.#times.percentiles(),
      lanes: laneSplit(variantNames.map((v) => variantLanes(v, variants.get(v)!.realtime, variants.get(v)!.batch))),
    };
  }
}

interface DayTally {
  /** YYYY-MM-DD (UTC). */
  day: string;
  micros: number;
  byVariant: Map<string, number>;
}

interface VariantTally {
  micros: number;
  jobs: number;
  modelServed: number;
  modelServedMicros: number;
  cacheServed: number;
  /** The variant's non-holdout jobs by lane. */
  realtime: LaneTally;
  batch: LaneTally;
}

function newTally(): VariantTally {
  return { micros: 0, jobs: 0, modelServed: 0, modelServedMicros: 0, cacheServed: 0, realtime: newLaneTally(), batch: newLaneTally() };
}

function addTo(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/** The parts of completed jobs' time, in preallocated arrays (no growth while collecting). */
class TimeSamples {
  readonly #parts: Record<TimePart, { values: Float64Array; n: number }>;

  constructor() {
    const part = () => ({ values: new Float64Array(1024), n: 0 });
    this.#parts = { queue: part(), provider: part(), gateway: part(), total: part() };
  }

  add(row: ExperimentRow): void {
    const { queue, provider, gateway, total } = this.#parts;
    if (row.queue_latency_ms !== null) push(queue, row.queue_latency_ms);
    if (row.provider_latency_ms !== null) push(provider, row.provider_latency_ms);
    if (row.total_latency_ms === null) return;
    push(total, row.total_latency_ms);
    push(gateway, Math.max(0, row.total_latency_ms - (row.queue_latency_ms ?? 0) - (row.provider_latency_ms ?? 0)));
  }

  percentiles(): Record<TimePart, TimePercentiles> {
    const of = ({ values, n }: { values: Float64Array; n: number }) => percentiles(values.subarray(0, n));
    return { queue: of(this.#parts.queue), provider: of(this.#parts.provider), gateway: of(this.#parts.gateway), total: of(this.#parts.total) };
  }
}

type TimePart = 'queue' | 'provider' | 'gateway' | 'total';

/** Appends to a sample, doubling its buffer when full. */
function push(part: { values: Float64Array; n: number }, value: number): void {
  if (part.n === part.values.length) {
    const grown = new Float64Array(part.values.length * 2);
    grown.set(part.values);
    part.values = grown;
  }
  part.values[part.n++] = value;
}

function alternativeSplits(configured: CostInput['variants'], tallies: ReadonlyMap<string, VariantTally>, monthlyJobs: number): CostAnalysis['alternative_splits'] {
  const names = configured.map((v) => v.name);
  const weightSum = configured.reduce((s, v) => s + v.weight, 0);
  const candidates: Record<string, number>[] = [];
  if (weightSum > 0) candidates.push(Object.fromEntries(configured.map((v) => [v.name, v.weight / weightSum])));
  for (const name of names) candidates.push(Object.fromEntries(names.map((n) => [n, n === name ? 1 : 0])));
  if (names.length === 2) candidates.push(Object.fromEntries(names.map((n) => [n, 0.5])));

  const monthly = (shares: Record<string, number>): number | null => {
    let perJob = 0;
    for (const [name, share] of Object.entries(shares)) {
      if (share === 0) continue;
      const tally = tallies.get(name);
      if (!tally || tally.jobs === 0) return null;
      perJob += share * (tally.micros / tally.jobs);
    }
    return monthlyJobs * perJob;
  };
  const seen = new Set<string>();
  const priced = candidates.flatMap((shares) => {
    const key = names.map((n) => shares[n]!.toFixed(9)).join('/');
    const micros = monthly(shares);
    if (seen.has(key) || micros === null) return [];
    seen.add(key);
    return [{ shares, micros }];
  });
  const current = weightSum > 0 ? monthly(candidates[0]!) : null;
  return priced.map(({ shares, micros }) => ({ shares, monthly_usd: usdOf(micros), saving_vs_current_usd: current === null ? 0 : usdOf(current - micros) }));
}

/**
 * p50, p95 and p99 with linear interpolation between order statistics (R's type 7, as
 * quantileSorted in libs/stats), found by selection rather than a sort: four sorts of 300,000
 * values alone would take most of the time budget. Reorders `values`.
 */
function percentiles(values: Float64Array): TimePercentiles {
  const n = values.length;
  if (n === 0) return { n: 0, p50: null, p95: null, p99: null };
  const select = quickselect as unknown as (arr: Float64Array, k: number, left: number, right: number) => void;
  let left = 0;
  const at = (q: number): number => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    // Everything before `left` is already known to be no larger, so each selection narrows the range.
    select(values, lo, left, n - 1);
    left = lo;
    if (lo + 1 >= n || h === lo) return values[lo]!;
    select(values, lo + 1, lo + 1, n - 1);
    return values[lo]! + (h - lo) * (values[lo + 1]! - values[lo]!);
  };
  return { n, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

function daysInUtcMonth(now: Date): number {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
}

/** Micro-dollars (possibly fractional, from a mean) as US dollars rounded to the micro-dollar. */
function usdOf(micros: number): number {
  return Math.round(micros) / MICROS_PER_USD;
}
