/**
 * Budget pacing, the Redis side: the gate a worker asks per job (pacingDecision.ts decides), and
 * the totals the forecast reads (demandForecast.ts). Keys, in the queue prefix's hash tag:
 *   <prefix>:budget:month:<YYYY-MM>, <prefix>:budget:day:<YYYY-MM-DD>   the budget's windows (budgetStore.ts; read only here)
 *   <prefix>:budget:paced:<YYYY-MM-DD>                                  hash: micros, jobs — the demand pacing held back that day
 * The gate reads the windows at most once per `cacheMs` (one MULTI, which also writes the held-back
 * demand counted since the last one), so at high throughput it costs no Redis call per job; between
 * two reads it adds what it let through itself, so one process cannot overrun today's allowance by
 * more than the other processes admit in that time. The hard cap stays the budget's reservation.
 */
import type { RedisClient } from '../redis/client.ts';
import type { BudgetSettings } from '../config/types.ts';
import { GatewayError } from '../errors/index.ts';
import { budgetLimits, budgetWindows } from './reservation.ts';
import { heldBackMicros, pacingCurveOf, pacingDecision, spreadOf, todayAllowanceMicros, type PacingDecision } from './pacingDecision.ts';

const DAY_MS = 86_400_000;
/** How long a day's held-back demand is kept, ms (35 days, as the day windows). */
const PACED_RETENTION_MS = 35 * DAY_MS;
/** Default of PacingGateOptions.cacheMs: the longest a read of today's totals is used, ms. */
export const PACING_CACHE_MS = 1_000;

/** The budget's totals around `now` that pacing and the forecast use, integer micro-dollars. */
export interface PacingTotals {
  /** 'YYYY-MM-DD' of today (UTC). */
  day: string;
  /** The month's spend plus open reservations. */
  monthMicros: number;
  /** Today's spend plus open reservations. */
  todayMicros: number;
  /** The month's spend and reservations before today (what dailyAllowanceMicros spreads). */
  spentBeforeTodayMicros: number;
  /** Demand pacing held back today (worst cases), and how many jobs. */
  heldTodayMicros: number;
  heldTodayJobs: number;
  /** Yesterday's spend plus reservations plus what pacing held back. */
  yesterdayDemandMicros: number;
}

const pacedKey = (prefix: string, day: string) => `${prefix}:budget:paced:${day}`;
const num = (v: string | null | undefined) => Number(v ?? 0) || 0;

/** Held-back demand not yet written, by day. */
type Pending = Map<string, { micros: number; jobs: number }>;

/**
 * Reads the totals around `now` (epoch ms) in one MULTI, first adding `pending` held-back demand
 * to its days (so the read includes it). `prefix` is the braced queue prefix ('{bull}').
 */
export async function readPacingTotals(redis: RedisClient, prefix: string, now: number, pending: Pending = new Map()): Promise<PacingTotals> {
  const w = budgetWindows(new Date(now));
  const yesterday = budgetWindows(new Date(now - DAY_MS)).day;
  const base = `${prefix}:budget:`;
  const tx = redis.multi();
  for (const [day, p] of pending) {
    const key = pacedKey(prefix, day);
    tx.hincrby(key, 'micros', p.micros).hincrby(key, 'jobs', p.jobs).pexpireat(key, Date.parse(`${day}T00:00:00Z`) + DAY_MS + PACED_RETENTION_MS);
  }
  const writes = pending.size * 3;
  tx.hmget(`${base}month:${w.month}`, 'spent', 'reserved')
    .hmget(`${base}day:${w.day}`, 'spent', 'reserved')
    .hmget(`${base}day:${yesterday}`, 'spent', 'reserved')
    .hmget(pacedKey(prefix, w.day), 'micros', 'jobs')
    .hget(pacedKey(prefix, yesterday), 'micros');
  const results = await tx.exec();
  if (!results) throw new GatewayError('budget_snapshot_failed', 'The pacing totals transaction was aborted.');
  for (const [err] of results) if (err) throw err;
  const at = (i: number) => results[writes + i]![1] as Array<string | null>;
  const [ms, mr] = at(0).map(num) as [number, number];
  const [ts, tr] = at(1).map(num) as [number, number];
  const [ys, yr] = at(2).map(num) as [number, number];
  const [ht, hj] = at(3).map(num) as [number, number];
  const hy = num(results[writes + 4]![1] as string | null);
  return {
    day: w.day,
    monthMicros: ms + mr,
    todayMicros: ts + tr,
    spentBeforeTodayMicros: Math.max(0, ms + mr - ts - tr),
    heldTodayMicros: ht,
    heldTodayJobs: hj,
    yesterdayDemandMicros: ys + yr + hy,
  };
}

/** A job as the gate judges it; amounts in integer micro-dollars. */
export interface PacedJob {
  /** The job id: where in the spread after midnight a deferred job lands. */
  id: string;
  /** Worst case on the model it would run on (what its reservation would hold). */
  worstCaseMicros: number;
  /** Worst case on the cheapest model it may run on. @defaultValue worstCaseMicros */
  cheapestWorstCaseMicros?: number;
  /** Its deadline leaves room for the batch lane. @defaultValue false */
  batchEligible?: boolean;
  /** Pacing held it back before (a deferred job back the next day): its demand was counted then, not again. @defaultValue false */
  heldBefore?: boolean;
}

/** Options of PacingGate. */
export interface PacingGateOptions {
  /** rate_limits.json `budget`, read per decision so a reload applies. */
  settings: () => BudgetSettings;
  /** Epoch ms. @defaultValue Date.now */
  now?: () => number;
  /** Longest a read of the totals is used, ms. @defaultValue PACING_CACHE_MS */
  cacheMs?: number;
}

interface Cached {
  at: number;
  totals: PacingTotals;
  /** Worst cases this gate let through since the read. */
  admitted: number;
}

/** Asks, per job, whether budget pacing lets it run today. One per worker process. */
export class PacingGate {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly o: Required<PacingGateOptions>;
  private cached: Cached | null = null;
  private reading: Promise<Cached> | null = null;
  private pending: Pending = new Map();

  /** `prefix` is the braced queue prefix (queuePrefix(), e.g. '{bull}'). */
  constructor(redis: RedisClient, prefix: string, options: PacingGateOptions) {
    this.redis = redis;
    this.prefix = prefix;
    this.o = { now: Date.now, cacheMs: PACING_CACHE_MS, ...options };
  }

  /**
   * The pacing decision for `job` now; { kind: 'none' } whenever pacing is off. A job held back
   * (any other decision) has its held-back demand counted for today, written with the next read.
   */
  async decide(job: PacedJob): Promise<PacingDecision> {
    const settings = this.o.settings();
    const pacing = settings.pacing;
    if (!pacing?.enabled) return { kind: 'none' };
    const now = this.o.now();
    const c = await this.current(now);
    const facts = {
      todayMicros: c.totals.todayMicros + c.admitted,
      spentBeforeTodayMicros: c.totals.spentBeforeTodayMicros,
      limitMicros: budgetLimits(settings).monthlyMicros,
      now,
      curve: pacingCurveOf(pacing.curve),
      action: pacing.action,
      worstCaseMicros: job.worstCaseMicros,
      batchEligible: job.batchEligible ?? false,
      spread: spreadOf(job.id),
      ...(job.cheapestWorstCaseMicros === undefined ? {} : { cheapestWorstCaseMicros: job.cheapestWorstCaseMicros }),
    };
    const decision = pacingDecision(facts);
    if (decision.kind === 'none') c.admitted += job.worstCaseMicros;
    else if (decision.kind === 'downgrade') c.admitted += job.cheapestWorstCaseMicros ?? job.worstCaseMicros;
    const held = heldBackMicros(decision, facts);
    if (decision.kind !== 'none' && !job.heldBefore) {
      const p = this.pending.get(c.totals.day) ?? { micros: 0, jobs: 0 };
      p.micros += held;
      p.jobs += 1;
      this.pending.set(c.totals.day, p);
    }
    return decision;
  }

  /**
   * Counts `micros` more as admitted since the last read: what a run reserves beyond what decide()
   * counted for it (a downgrade that kept a dearer model than the cheapest). A no-op without a read.
   */
  admit(micros: number): void {
    if (this.cached && micros > 0) this.cached.admitted += micros;
  }

  /** Today's allowance, micro-dollars, at the last read (or a new one when none is fresh). */
  async allowanceMicros(): Promise<number> {
    const settings = this.o.settings();
    const now = this.o.now();
    const c = await this.current(now);
    return todayAllowanceMicros({ limitMicros: budgetLimits(settings).monthlyMicros, spentBeforeTodayMicros: c.totals.spentBeforeTodayMicros, now, curve: pacingCurveOf(settings.pacing?.curve) });
  }

  /** Writes the held-back demand counted since the last read and reads the totals afresh. */
  async flush(): Promise<PacingTotals> {
    this.cached = null;
    return (await this.current(this.o.now())).totals;
  }

  private async current(now: number): Promise<Cached> {
    const c = this.cached;
    // A new day, a clock that went back or an old read: read again.
    if (c && now >= c.at && now - c.at < this.o.cacheMs && budgetWindows(new Date(now)).day === c.totals.day) return c;
    if (!this.reading) {
      const pending = this.pending;
      this.pending = new Map();
      this.reading = readPacingTotals(this.redis, this.prefix, now, pending)
        .then((totals) => (this.cached = { at: now, totals, admitted: 0 }))
        .catch((err: unknown) => {
          // Not written: counted again with the next read.
          for (const [day, p] of pending) {
            const q = this.pending.get(day) ?? { micros: 0, jobs: 0 };
            this.pending.set(day, { micros: q.micros + p.micros, jobs: q.jobs + p.jobs });
          }
          throw err;
        })
        .finally(() => (this.reading = null));
    }
    return this.reading;
  }
}
