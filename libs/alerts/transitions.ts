/**
 * Pure: what an alert's stored state and its condition now make of it. An alert fires once when its
 * condition starts and resolves once when it ends; a budget alert fires at most once per budget
 * window. The Redis side (state.ts) applies a decision only if the state is still the one it was
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
}

/** What to do about one alert. */
export type AlertDecision =
  | { kind: 'none' }
  | { kind: 'fire'; next: AlertState }
  | { kind: 'resolve'; next: AlertState; reason: 'condition_ended' | 'disabled' };

const NEVER: AlertState = { firing: false, since: 0, seq: 0 };

/**
 * The decision for an alert in `previous` state (undefined: never seen) whose condition is
 * `condition` (undefined: no longer evaluated, because disabled or its provider removed) at `now`
 * (epoch ms).
 */
export function decide(previous: AlertState | undefined, condition: AlertCondition | undefined, now: number): AlertDecision {
  const prev = previous ?? NEVER;
  if (condition === undefined) {
    return prev.firing ? { kind: 'resolve', next: { ...prev, firing: false, since: now, seq: prev.seq + 1 }, reason: 'disabled' } : { kind: 'none' };
  }
  if (condition.active === null) return { kind: 'none' };
  if (condition.active && !prev.firing) {
    if (condition.window !== undefined && prev.window === condition.window) return { kind: 'none' };
    const next: AlertState = { firing: true, since: now, seq: prev.seq + 1 };
    const window = condition.window ?? prev.window;
    if (window !== undefined) next.window = window;
    return { kind: 'fire', next };
  }
  if (!condition.active && prev.firing) return { kind: 'resolve', next: { ...prev, firing: false, since: now, seq: prev.seq + 1 }, reason: 'condition_ended' };
  return { kind: 'none' };
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
export function noticeFor(id: string, decision: Exclude<AlertDecision, { kind: 'none' }>, condition: AlertCondition | undefined, now: number): AlertNotice {
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
