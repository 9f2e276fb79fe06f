/**
 * One evaluation of every built-in alert, as the alert scheduler's job runs it: read the budget,
 * the breakers, the queue and the workers' signal buckets; decide each alert's transition; apply
 * each by compare-and-set in Redis; and tell the sinks about the transitions this evaluation won.
 */
import type { GatewayConfig } from '../config/types.ts';
import type { RedisClient } from '../redis/client.ts';
import type { BudgetSnapshot } from '../budget/budgetStore.ts';
import type { BreakerSnapshot } from '../resilience/sharedBreaker.ts';
import { budgetLimits } from '../budget/reservation.ts';
import { readPacingTotals } from '../budget/pacingGate.ts';
import { allCandidates, candidateWorstCase } from '../pipeline/route.ts';
import { evaluateConditions, type AlertCondition, type AlertInputs } from './conditions.ts';
import { longestWindowSeconds, readBuckets } from './signals.ts';
import { compareAndSetState, readStates } from './state.ts';
import { decide, encodeState, noticeFor, type AlertNotice } from './transitions.ts';

/** Logger methods the evaluator uses (pino fits). */
export interface AlertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What evaluateAlerts reads and where it reports. */
export interface EvaluatorDeps {
  redis: RedisClient;
  /** The braced queue prefix ('{bull}'). */
  prefix: string;
  config: () => GatewayConfig;
  budget: { snapshot(): Promise<BudgetSnapshot> };
  breaker: { state(provider: string): Promise<BreakerSnapshot> };
  /** Age in ms of the oldest waiting LLM job; 0 when none waits. */
  oldestWaitingMs: () => Promise<number>;
  /** Hands a won transition to the webhook sink (enqueues it); the log line is written here. */
  notify?: (notice: AlertNotice) => Promise<void>;
  log: AlertLogger;
  /** Epoch ms. @defaultValue Date.now */
  now?: () => number;
}

/**
 * Worst case in micro-dollars of the cheapest job the config allows: the cheapest model with an
 * empty prompt and the smallest feature output limit, as the API's admission counts it.
 */
export function cheapestJobMicros(cfg: GatewayConfig, at: Date): number {
  const maxOut = Math.min(...Object.values(cfg.features).map((f) => f.output.max_output_tokens));
  const costs = allCandidates(cfg).map((c) => candidateWorstCase(c, 0, Number.isFinite(maxOut) ? maxOut : 0, at));
  return costs.length > 0 ? Math.min(...costs) : 0;
}

/** Evaluates every alert once; returns the notices of the transitions this call applied. */
export async function evaluateAlerts(deps: EvaluatorDeps): Promise<AlertNotice[]> {
  const cfg = deps.config();
  const rules = cfg.alerts;
  const now = (deps.now ?? Date.now)();
  const inputs = await readInputs(deps, cfg, now);
  const conditions = new Map<string, AlertCondition>(evaluateConditions(rules, inputs).map((c) => [c.id, c]));
  const states = await readStates(deps.redis, deps.prefix);
  const notices: AlertNotice[] = [];
  for (const id of new Set([...conditions.keys(), ...states.keys()])) {
    const stored = states.get(id);
    const condition = conditions.get(id);
    const decision = decide(stored?.state, condition, now, (rules.resolve_after_seconds ?? 0) * 1000);
    if (decision.kind === 'none') continue;
    // Another evaluator that read the same state and won the race has notified already.
    if (!(await compareAndSetState(deps.redis, deps.prefix, id, stored?.raw ?? '', encodeState(decision.next)))) continue;
    if (decision.kind === 'track') continue;
    const notice = noticeFor(id, decision, condition, now);
    notices.push(notice);
    const fields = { event: 'alert', alert: id, status: notice.status, value: notice.value, threshold: notice.threshold };
    if (notice.status === 'firing') deps.log.warn(fields, notice.text);
    else deps.log.info(fields, notice.text);
    if (deps.notify) await deps.notify(notice).catch((err: unknown) => deps.log.error({ err, alert: id }, 'could not queue an alert notification'));
  }
  return notices;
}

async function readInputs(deps: EvaluatorDeps, cfg: GatewayConfig, now: number): Promise<AlertInputs> {
  const rules = cfg.alerts;
  // Each input is read on its own: one that fails leaves its alerts undecided, not the others.
  const soft = <T>(what: string, read: () => Promise<T>): Promise<T | null> =>
    read().catch((err: unknown) => {
      deps.log.error({ err, input: what }, `alert evaluation could not read the ${what}`);
      return null;
    });
  const providers = Object.keys(cfg.providers.providers);
  const [snapshot, pacing, breakerStates, oldestWaitingMs, buckets] = await Promise.all([
    soft('budget', () => deps.budget.snapshot()),
    rules.budget_forecast?.enabled ? soft('budget demand', () => readPacingTotals(deps.redis, deps.prefix, now)) : Promise.resolve(undefined),
    Promise.all(providers.map((p) => soft(`breaker of ${p}`, () => deps.breaker.state(p)))),
    soft('queue', () => deps.oldestWaitingMs()),
    soft('signals', () => readBuckets(deps.redis, deps.prefix, rules.bucket_seconds, now, longestWindowSeconds(rules))),
  ]);
  const limits = budgetLimits(cfg.rateLimits.budget);
  return {
    now,
    budget: snapshot && {
      month: { period: snapshot.month.period, spent: snapshot.month.spent, limit: limits.monthlyMicros },
      day: { period: snapshot.day.period, spent: snapshot.day.spent, limit: limits.dailyMicros },
      minJobMicros: cheapestJobMicros(cfg, new Date(now)),
    },
    ...(pacing === undefined ? {} : { demand: pacing && { monthMicros: pacing.monthMicros, todayDemandMicros: pacing.todayMicros + pacing.heldTodayMicros, yesterdayDemandMicros: pacing.yesterdayDemandMicros } }),
    breakers: Object.fromEntries(providers.map((p, i) => [p, breakerStates[i]?.state ?? null])),
    oldestWaitingMs,
    buckets,
    bucketSeconds: rules.bucket_seconds,
    rateLimitedProviders: Object.keys(cfg.rateLimits.providers),
  };
}
