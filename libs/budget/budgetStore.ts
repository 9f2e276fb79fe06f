/**
 * The budget's Redis adapter: reservations, settles, releases, charges and the reaper, each one Lua
 * script (one round trip, atomic across every API and worker process). Keys, all in the queue
 * prefix's hash tag (one cluster slot):
 *   <prefix>:budget:month:<YYYY-MM>, <prefix>:budget:day:<YYYY-MM-DD>   hashes: spent, reserved, charged, limit, th, seeded, xa (expiry set)
 *   <prefix>:budget:holds                                              zset: hold id -> expiry ms
 *   <prefix>:budget:hold:<holdId>                                      hash: amount, month, day, expiresAt
 *   <prefix>:budget:settled:<holdId>                                   marker of a finished hold (3 days)
 *   <prefix>:budget:alerts:<month|day>:<period>                        set of the thresholds already reported
 *   <prefix>:events:budget                                             stream of threshold events (alerts.ts)
 * Amounts are integer micro-dollars. Spend is an upper bound of what the providers billed: a hold
 * whose worker died is charged at its reserved amount (it may have been answered) and corrected
 * when its answer is settled. Alert thresholds compare spend (charges included, not reservations)
 * with the limit, and the script that crosses one appends its event to the stream.
 * A window is admitted against only once `seeded` (seed-2.lua): its spend was rebuilt from the
 * result store's finished jobs, so a Redis that lost its data never grants the budget twice.
 */
import type { RedisClient } from '../redis/client.ts';
import { GatewayError } from '../errors/index.ts';
import { defineScripts, parseCrossed, type BudgetCommands } from './scripts.ts';
import { BUDGET_EVENTS_MAXLEN, budgetEventsKey, type BudgetThresholdEvent } from './alerts.ts';
import { budgetWindows, forecastMonthEnd, thresholdMicros, type BudgetLimits } from './reservation.ts';
import { readPacingTotals, type PacingTotals } from './pacingGate.ts';

/** Alert thresholds used when a reservation names none: fractions of each limit. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [0.8, 0.9, 0.95, 1.0];
/** How long the marker of a settled/released/reaped hold lives, in ms (3 days): the idempotency horizon. */
export const FINISHED_MARKER_TTL_MS = 3 * 24 * 3_600_000;
/** Holds charged by one reap call at most. Default of `reap(limit)`. */
export const REAP_BATCH = 500;
/** How long a day window's keys outlive the day, in ms (35 days). */
const DAY_RETENTION_MS = 35 * 24 * 3_600_000;
/** How long a month window's keys outlive the month, in ms (400 days, for year-over-year reports). */
const MONTH_RETENTION_MS = 400 * 24 * 3_600_000;

/** A reservation request. */
export interface ReserveRequest {
  /** `<jobId>:<attempt>` (any string; ':' allowed). Single use: once settled/released/reaped it cannot be reserved again. */
  holdId: string;
  /** Worst-case cost to hold, integer micro-dollars. */
  amountMicros: number;
  limits: BudgetLimits;
  /** Milliseconds before the reaper charges the hold as its worker's (rate_limits.json reservation_ttl_ms). */
  ttlMs: number;
  /** Alert thresholds as fractions of each limit. Default DEFAULT_ALERT_THRESHOLDS. */
  thresholds?: readonly number[];
}

/** Where the spend of a lost window is rebuilt from; a JobStore is one (JobStore.spentMicros). */
export interface SpendSource {
  /** Micro-dollars finished jobs cost, completed in [`fromIso`, `toIso`). */
  spentMicros(fromIso: string, toIso: string): Promise<number>;
}

/** Options of BudgetStore. */
export interface BudgetStoreOptions {
  /**
   * The only clock the budget uses, epoch ms.
   * @defaultValue Date.now
   */
  now?: () => number;
  /**
   * Where a window's spend is rebuilt from when Redis lost it; without one a window is seeded with
   * the spend Redis still holds (zero after a loss), as a process that never reserves may do.
   * @defaultValue none
   */
  spend?: SpendSource;
}

/** What seedWindows did: spend after, micro-dollars, and how many windows it seeded now (0-2). */
export interface SeedResult {
  month: number;
  day: number;
  seeded: number;
}

/** Tries of a reservation whose windows needed seeding, before it gives up. */
const SEED_TRIES = 3;

/** Spend of one window, integer micro-dollars. */
export interface WindowTotals {
  spent: number;
  reserved: number;
}

/** A granted reservation (new, or the same hold id reserved before: reserve is idempotent). */
export interface ReserveGranted {
  ok: true;
  holdId: string;
  /** False when the hold already existed (a retried call): nothing was added. */
  created: boolean;
  /** Totals after the reservation. */
  month: WindowTotals;
  day: WindowTotals;
}

/** A refused reservation: the named window cannot afford the amount. */
export interface ReserveRefused {
  ok: false;
  /** The window that refused (month wins when both would). */
  window: 'month' | 'day';
  /** Micro-dollars still free in the tightest window (limit - spent - reserved, at least 0). */
  availableMicros: number;
  /** Epoch ms at which the refusing window ends and a new one opens. */
  retryAtMs: number;
  /** True when settled spend alone leaves no room (open holds returning would not help). */
  exhausted: boolean;
  month: WindowTotals;
  day: WindowTotals;
}

/** Outcome of a settle: `settled` is true only when this call counted the cost. */
export interface SettleResult {
  settled: boolean;
  /** 'corrected': the hold had been charged without its answer and spend now moved to the real cost (settle-4.lua). */
  status: 'settled' | 'corrected' | 'late' | 'already_settled' | 'released' | 'unknown';
  /** Thresholds this settle reached first, each appended once per window to the event stream by the script. */
  crossed: BudgetThresholdEvent[];
}

/** Outcome of a reap: expired holds charged at their reserved amount. */
export interface ReapResult {
  /** Holds charged by this call. */
  charged: number;
  /** Their reserved amounts, now in spent, micro-dollars. */
  micros: number;
  /** Thresholds these charges reached first (already appended to the event stream). */
  crossed: BudgetThresholdEvent[];
}

/** One window in a snapshot. */
export interface WindowSnapshot extends WindowTotals {
  /** Part of `spent` charged at holds' reserved amounts with no known answer (their workers died), micro-dollars. */
  charged: number;
  /** 'YYYY-MM' or 'YYYY-MM-DD'. */
  period: string;
  /** The limit the last reservation applied, micro-dollars; null if none yet (or no daily limit). */
  limit: number | null;
  /** Epoch ms at which the window ends. */
  endsAt: number;
}

/** The current windows, read atomically. */
export interface BudgetSnapshot {
  month: WindowSnapshot & { forecastMicros: number };
  day: WindowSnapshot;
  /** Open holds in all windows. */
  holds: number;
}

function assertMicros(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new GatewayError('budget_invalid_amount', `${name} must be a non-negative integer of micro-dollars, got ${value}`);
}

/** 'fraction:micros,...' as the scripts keep it in a window. */
function thresholdSpec(limit: number, thresholds: readonly number[]): string {
  return thresholds.map((t) => `${t}:${thresholdMicros(limit, t)}`).join(',');
}

/** The global budget in Redis, shared by every process. */
export class BudgetStore {
  private readonly redis: RedisClient;
  private readonly commands: BudgetCommands;
  private readonly base: string;
  private readonly prefix: string;
  private readonly events: string;
  private readonly now: () => number;
  private readonly spend: SpendSource | undefined;
  /** Seeding in progress per 'month|day', so that concurrent reservations ask the store once. */
  private readonly seeding = new Map<string, Promise<SeedResult>>();

  /**
   * `prefix` is the braced queue prefix (queuePrefix(), e.g. '{bull}'); the third argument is the
   * clock (epoch ms, default Date.now) or the options.
   */
  constructor(redis: RedisClient, prefix: string, options: (() => number) | BudgetStoreOptions = {}) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.redis = redis;
    this.commands = defineScripts(redis);
    this.base = `${prefix}:budget:`;
    this.prefix = prefix;
    this.events = budgetEventsKey(prefix);
    this.now = o.now ?? Date.now;
    this.spend = o.spend;
  }

  /**
   * Reserves `amountMicros` in the current month and day, or says which window refused and until
   * when. A window Redis lost is seeded from the spend source first (seedWindows).
   */
  async reserve(req: ReserveRequest): Promise<ReserveGranted | ReserveRefused> {
    assertMicros('amountMicros', req.amountMicros);
    const now = this.now();
    const w = budgetWindows(new Date(now));
    for (let tries = 1; ; tries++) {
      const answer = await this.reserveIn(req, now, w);
      if (answer !== 'unseeded') return answer;
      if (tries >= SEED_TRIES) {
        throw new GatewayError('budget_unseeded', `The budget windows ${w.month} and ${w.day} could not be seeded from the result store; the job is retried.`);
      }
      await this.seedWindows(now);
    }
  }

  /**
   * Rebuilds the spend of the windows around `now` (epoch ms, default the clock) from the spend
   * source, once per window (seed-2.lua): Redis lost them, or they are new. Spend never goes down.
   */
  async seedWindows(now: number = this.now()): Promise<SeedResult> {
    const w = budgetWindows(new Date(now));
    const key = `${w.month}|${w.day}`;
    let running = this.seeding.get(key);
    if (!running) {
      running = this.seed(w).finally(() => this.seeding.delete(key));
      this.seeding.set(key, running);
    }
    return running;
  }

  private async seed(w: ReturnType<typeof budgetWindows>): Promise<SeedResult> {
    const iso = (ms: number) => new Date(ms).toISOString();
    const dayStartsAt = w.dayEndsAt - 24 * 3_600_000;
    const [month, day] = this.spend
      ? await Promise.all([this.spend.spentMicros(iso(w.monthStartsAt), iso(w.monthEndsAt)), this.spend.spentMicros(iso(dayStartsAt), iso(w.dayEndsAt))])
      : [0, 0];
    assertMicros('month spend', month);
    assertMicros('day spend', day);
    const raw = (await this.commands.gatewayBudgetSeed(
      `${this.base}month:${w.month}`,
      `${this.base}day:${w.day}`,
      month,
      day,
      w.monthEndsAt + MONTH_RETENTION_MS,
      w.dayEndsAt + DAY_RETENTION_MS,
      new Date(this.now()).toISOString(),
    )) as [number, number, number];
    return { month: Number(raw[0]), day: Number(raw[1]), seeded: Number(raw[2]) };
  }

  private async reserveIn(req: ReserveRequest, now: number, w: ReturnType<typeof budgetWindows>): Promise<ReserveGranted | ReserveRefused | 'unseeded'> {
    const { monthlyMicros, dailyMicros } = req.limits;
    const thresholds = req.thresholds ?? DEFAULT_ALERT_THRESHOLDS;
    const raw = (await this.commands.gatewayBudgetReserve(
      `${this.base}month:${w.month}`,
      `${this.base}day:${w.day}`,
      `${this.base}holds`,
      `${this.base}hold:${req.holdId}`,
      `${this.base}settled:${req.holdId}`,
      req.holdId,
      req.amountMicros,
      monthlyMicros,
      dailyMicros ?? '',
      now + req.ttlMs,
      w.month,
      w.day,
      thresholdSpec(monthlyMicros, thresholds),
      dailyMicros === null ? '' : thresholdSpec(dailyMicros, thresholds),
      w.monthEndsAt + MONTH_RETENTION_MS,
      w.dayEndsAt + DAY_RETENTION_MS,
    )) as [number, string, number?, number?, number?, number?];
    const [code, state, ms = 0, mr = 0, ds = 0, dr = 0] = raw;
    if (code === -1) throw new GatewayError('budget_hold_finished', `Hold ${req.holdId} is already ${state.split(':')[0]}; hold ids are single use.`);
    if (code === -2) return 'unseeded';
    const month = { spent: ms, reserved: mr };
    const day = { spent: ds, reserved: dr };
    if (code === 1) return { ok: true, holdId: req.holdId, created: state === 'new', month, day };
    const window = state === 'day' ? 'day' : 'month';
    const monthFree = monthlyMicros - ms - mr;
    const dayFree = dailyMicros === null ? Infinity : dailyMicros - ds - dr;
    const limit = window === 'month' ? monthlyMicros : dailyMicros!;
    const spent = window === 'month' ? ms : ds;
    return {
      ok: false,
      window,
      availableMicros: Math.max(0, Math.min(monthFree, dayFree)),
      retryAtMs: window === 'month' ? w.monthEndsAt : w.dayEndsAt,
      exhausted: spent + req.amountMicros > limit,
      month,
      day,
    };
  }

  /** Counts the real cost of a hold once (see settle-4.lua for the statuses); never counts twice. */
  async settle(holdId: string, actualMicros: number): Promise<SettleResult> {
    assertMicros('actualMicros', actualMicros);
    const raw = (await this.commands.gatewayBudgetSettle(
      `${this.base}holds`,
      `${this.base}hold:${holdId}`,
      `${this.base}settled:${holdId}`,
      this.events,
      holdId,
      actualMicros,
      this.base,
      FINISHED_MARKER_TTL_MS,
      BUDGET_EVENTS_MAXLEN,
      new Date(this.now()).toISOString(),
    )) as string[];
    const status = raw[0] as SettleResult['status'];
    return { settled: status === 'settled' || status === 'corrected' || status === 'late', status, crossed: parseCrossed(raw, 1) };
  }

  /**
   * Charges an open hold at its reserved amount, for a run that ends not knowing whether the
   * provider answered; a later settle corrects it to the real cost. Answers the amount charged,
   * or null when the hold was not open (already settled, released or charged).
   */
  async charge(holdId: string): Promise<{ micros: number; crossed: BudgetThresholdEvent[] } | null> {
    const raw = (await this.commands.gatewayBudgetCharge(
      `${this.base}holds`,
      `${this.base}hold:${holdId}`,
      `${this.base}settled:${holdId}`,
      this.events,
      holdId,
      this.base,
      FINISHED_MARKER_TTL_MS,
      BUDGET_EVENTS_MAXLEN,
      new Date(this.now()).toISOString(),
    )) as unknown[];
    const micros = Number(raw[0]);
    return micros < 0 ? null : { micros, crossed: parseCrossed(raw, 1) };
  }

  /**
   * Returns a hold whose call certainly never happened to the budget (taking back its charge if
   * the reaper had charged it); true when this call released it, false if already finished.
   */
  async release(holdId: string): Promise<boolean> {
    const [released] = (await this.commands.gatewayBudgetRelease(
      `${this.base}holds`,
      `${this.base}hold:${holdId}`,
      `${this.base}settled:${holdId}`,
      holdId,
      this.base,
      FINISHED_MARKER_TTL_MS,
    )) as [number, number];
    return released === 1;
  }

  /**
   * Charges up to `limit` (default REAP_BATCH) holds whose TTL has passed at their reserved amount:
   * their workers died, maybe after being answered. Call until `charged` < limit.
   */
  async reap(limit: number = REAP_BATCH): Promise<ReapResult> {
    const now = this.now();
    const raw = (await this.commands.gatewayBudgetReap(
      `${this.base}holds`,
      this.events,
      now,
      limit,
      this.base,
      FINISHED_MARKER_TTL_MS,
      BUDGET_EVENTS_MAXLEN,
      new Date(now).toISOString(),
    )) as unknown[];
    return { charged: Number(raw[0]), micros: Number(raw[1]), crossed: parseCrossed(raw, 2) };
  }

  /** The totals budget pacing and the demand forecast read (pacingGate.ts readPacingTotals) at `now` (epoch ms, default the clock). */
  async pacingTotals(now: number = this.now()): Promise<PacingTotals> {
    return readPacingTotals(this.redis, this.prefix, now);
  }

  /** Spent, reserved and limits of the current month and day, read in one MULTI (a consistent moment). */
  async snapshot(): Promise<BudgetSnapshot> {
    const now = this.now();
    const w = budgetWindows(new Date(now));
    const results = await this.redis
      .multi()
      .hmget(`${this.base}month:${w.month}`, 'spent', 'reserved', 'limit', 'charged')
      .hmget(`${this.base}day:${w.day}`, 'spent', 'reserved', 'limit', 'charged')
      .zcard(`${this.base}holds`)
      .exec();
    if (!results) throw new GatewayError('budget_snapshot_failed', 'The budget snapshot transaction was aborted.');
    for (const [err] of results) if (err) throw err;
    const window = (values: unknown, period: string, endsAt: number): WindowSnapshot => {
      const [spent, reserved, limit, charged] = values as Array<string | null>;
      return {
        period,
        spent: Number(spent ?? 0),
        reserved: Number(reserved ?? 0),
        charged: Number(charged ?? 0),
        limit: limit === null || limit === undefined ? null : Number(limit),
        endsAt,
      };
    };
    const month = window(results[0]![1], w.month, w.monthEndsAt);
    return {
      month: { ...month, forecastMicros: forecastMonthEnd(month.spent, new Date(now)) },
      day: window(results[1]![1], w.day, w.dayEndsAt),
      holds: Number(results[2]![1]),
    };
  }
}
