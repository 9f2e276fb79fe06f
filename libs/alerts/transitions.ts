/**
 * Pure: what an alert's stored state and its condition now make of it. An alert fires once when its
 * condition starts and resolves once its condition has stayed ended for `resolveAfterMs` (so a value
 * hovering at its threshold pages once, not on every crossing); a budget alert fires at most once per
 * budget window. The Redis side (state.ts) applies a decision only if the state is still the one it was
 * decided from, so two evaluators never notify twice.
 */
import type { AlertCondition } from './conditions.ts';

/** An alert's state as kept in Redis. */
export interface AlertState {
  firing: boolean;
  /** Epoch ms of the last transition. */
  since: number;
  /** Budget window of the last firing (budget alerts only). */
  window?: string;
  /** Transitions so far: names each notification once. */
  seq: number;
  /** Epoch ms since which a firing alert's condition has been ended (absent while it holds). */
  clearSince?: number;
}

/** What to do about one alert. */
export type AlertDecision =
  | { kind: 'none' }
  | { kind: 'fire'; next: AlertState }
  | { kind: 'resolve'; next: AlertState; reason: 'condition_ended' | 'disabled' }
  /** A firing alert's quiet bookkeeping (its condition ended or came back): stored, not notified. */
  | { kind: 'track'; next: AlertState };

/** A decision that notifies. */
export type AlertTransition = Extract<AlertDecision, { kind: 'fire' | 'resolve' }>;

const NEVER: AlertState = { firing: false, since: 0, seq: 0 };

/**
 * The decision for an alert in `previous` state (undefined: never seen) whose condition is
 * `condition` (undefined: no longer evaluated, because disabled or its provider removed) at `now`
 * (epoch ms). A firing alert resolves once its condition has been ended for `resolveAfterMs`
 * (0: at the first evaluation that finds it ended).
 */
export function decide(previous: AlertState | undefined, condition: AlertCondition | undefined, now: number, resolveAfterMs = 0): AlertDecision {
  const prev = previous ?? NEVER;
  if (condition === undefined) return prev.firing ? resolve(prev, now, 'disabled') : { kind: 'none' };
  if (condition.active === null) return { kind: 'none' };
  if (condition.active && !prev.firing) {
    if (condition.window !== undefined && prev.window === condition.window) return { kind: 'none' };
    const next: AlertState = { firing: true, since: now, seq: prev.seq + 1 };
    const window = condition.window ?? prev.window;
    if (window !== undefined) next.window = window;
    return { kind: 'fire', next };
  }
  if (!prev.firing) return { kind: 'none' };
  if (condition.active) return prev.clearSince === undefined ? { kind: 'none' } : { kind: 'track', next: withoutClear(prev) };
  if (resolveAfterMs <= 0 || (prev.clearSince !== undefined && now - prev.clearSince >= resolveAfterMs)) return resolve(prev, now, 'condition_ended');
  return prev.clearSince === undefined ? { kind: 'track', next: { ...prev, clearSince: now } } : { kind: 'none' };
}

function withoutClear(state: AlertState): AlertState {
  const { clearSince: _, ...rest } = state;
  return rest;
}

function resolve(prev: AlertState, now: number, reason: 'condition_ended' | 'disabled'): AlertDecision {
  return { kind: 'resolve', next: { ...withoutClear(prev), firing: false, since: now, seq: prev.seq + 1 }, reason };
}

/** The stored form of a state (one hash field per alert). */
export function encodeState(state: AlertState): string {
  return JSON.stringify(state);
}

/** A stored state back, or undefined when absent or unreadable (treated as never seen). */
export function decodeState(raw: string | null | undefined): AlertState | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Partial<AlertState>;
    if (typeof v.firing !== 'boolean' || typeof v.seq !== 'number') return undefined;
    const state: AlertState = { firing: v.firing, since: Number(v.since ?? 0), seq: v.seq };
    if (typeof v.window === 'string') state.window = v.window;
    if (typeof v.clearSince === 'number') state.clearSince = v.clearSince;
    return state;
  } catch {
    return undefined;
  }
}

/** What a sink is told about one transition. */
export interface AlertNotice {
  alert: string;
  rule: string;
  status: 'firing' | 'resolved';
  /** Slack's message text. */
  text: string;
  summary: string;
  value: number | null;
  threshold: number | null;
  /** ISO time of the transition. */
  at: string;
  /** The transition's number for this alert (with `alert`, a stable id for deduplication). */
  seq: number;
}

/** The notice of a fire or resolve decision about `id` (condition undefined: resolved because disabled). */
export function noticeFor(id: string, decision: AlertTransition, condition: AlertCondition | undefined, now: number): AlertNotice {
  const firing = decision.kind === 'fire';
  const summary = condition?.summary ?? 'the alert is no longer evaluated (disabled or removed from the config)';
  const rule = condition?.rule ?? id.split('/')[0]!.replace(/_(day_)?\d+$/, '');
  return {
    alert: id,
    rule,
    status: firing ? 'firing' : 'resolved',
    text: `${firing ? ':rotating_light: FIRING' : ':white_check_mark: RESOLVED'} [llm-gateway] ${id}: ${summary}`,
    summary,
    value: condition?.value ?? null,
    threshold: condition?.threshold ?? null,
    at: new Date(now).toISOString(),
    seq: decision.next.seq,
  };
}
