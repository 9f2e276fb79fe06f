/**
 * The simulator's knobs: types, defaults, and a validating merge used at start and by PUT /admin/knobs.
 */
import type { LatencyKnob } from './latency.ts';

/** The two wire formats the simulator speaks. */
export type Provider = 'openai' | 'anthropic';

/** Both providers, in a fixed order. */
export const PROVIDERS: readonly Provider[] = ['openai', 'anthropic'];

/** Fault and latency settings for one provider. */
export interface ProviderKnobs {
  /** How long an answer takes. Default `{ kind: 'fixed', ms: 0 }`. */
  latency: LatencyKnob;
  /** Share of requests (0..1) answered with an error status. Default 0. */
  error_rate: number;
  /** Statuses an injected error is chosen from, uniformly. Default [429, 500, 503, 529]. */
  error_statuses: number[];
  /** Seconds sent in `retry-after` on a 429. Default 1. */
  retry_after_s: number;
  /** Share of requests (0..1) that never answer until the client gives up. Default 0. */
  hang_rate: number;
  /** Share of requests (0..1) answered 200 with a body that is not the expected JSON. Default 0. */
  malformed_rate: number;
  /** When true every request answers 503 (overloaded) at once. Default false. */
  down: boolean;
  /** The batch API (OpenAI Batch + Files, Anthropic Message Batches). */
  batch: BatchKnobs;
}

/** Settings of one provider's batch API; none of the realtime knobs above apply to it. */
export interface BatchKnobs {
  /** Milliseconds from a batch's creation until it ends (all its items answered at once). @defaultValue 200 */
  completion_delay_ms: number;
  /** Share of items (0..1) that end errored (a 500 in the item's result), drawn from the seeded PRNG. @defaultValue 0 */
  item_error_rate: number;
  /** The next N batches created end as expired, no item answered; counts down per batch. @defaultValue 0 */
  expire_next: number;
  /** When true every batch endpoint answers 503 at once (the realtime endpoints are unaffected). @defaultValue false */
  down: boolean;
}

/** All knobs. */
export interface Knobs {
  /** Seed of the PRNG behind faults and latency; setting it restarts the sequence. Default 1. */
  seed: number;
  openai: ProviderKnobs;
  anthropic: ProviderKnobs;
}

/** What callers may set: any subset, merged per provider onto the current knobs. */
export interface PartialKnobs {
  seed?: number;
  openai?: PartialProviderKnobs;
  anthropic?: PartialProviderKnobs;
}

/** A patch of one provider's knobs; its `batch` part is merged field by field too. */
export type PartialProviderKnobs = Partial<Omit<ProviderKnobs, 'batch'>> & { batch?: Partial<BatchKnobs> };

/** The knobs of a well-behaved, instant provider. */
export function defaultProviderKnobs(): ProviderKnobs {
  return {
    latency: { kind: 'fixed', ms: 0 },
    error_rate: 0,
    error_statuses: [429, 500, 503, 529],
    retry_after_s: 1,
    hang_rate: 0,
    malformed_rate: 0,
    down: false,
    batch: defaultBatchKnobs(),
  };
}

/** The knobs of a well-behaved batch API that ends each batch after 200 ms. */
export function defaultBatchKnobs(): BatchKnobs {
  return { completion_delay_ms: 200, item_error_rate: 0, expire_next: 0, down: false };
}

/** Default knobs for both providers. */
export function defaultKnobs(): Knobs {
  return { seed: 1, openai: defaultProviderKnobs(), anthropic: defaultProviderKnobs() };
}

/** The outcome of a merge: the new knobs, or one message per invalid field. */
export type MergeResult = { ok: true; knobs: Knobs } | { ok: false; errors: string[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isRate = (v: unknown): v is number => isNumber(v) && v >= 0 && v <= 1;

function validateLatency(v: unknown, path: string, errors: string[]): LatencyKnob | undefined {
  if (!isObject(v)) return void errors.push(`${path} must be an object`);
  if (v.kind === 'fixed') {
    if (isNumber(v.ms) && v.ms >= 0) return { kind: 'fixed', ms: v.ms };
    return void errors.push(`${path}.ms must be a number >= 0`);
  }
  if (v.kind === 'lognormal') {
    const { p50_ms: p50, p95_ms: p95 } = v;
    if (isNumber(p50) && isNumber(p95) && p50 > 0 && p95 >= p50) return { kind: 'lognormal', p50_ms: p50, p95_ms: p95 };
    return void errors.push(`${path} needs p50_ms > 0 and p95_ms >= p50_ms`);
  }
  return void errors.push(`${path}.kind must be 'fixed' or 'lognormal'`);
}

function mergeBatch(base: BatchKnobs, patch: unknown, path: string, errors: string[]): BatchKnobs {
  const out: BatchKnobs = { ...base };
  if (!isObject(patch)) {
    errors.push(`${path} must be an object`);
    return out;
  }
  for (const [key, value] of Object.entries(patch)) {
    const at = `${path}.${key}`;
    switch (key) {
      case 'completion_delay_ms':
        if (isNumber(value) && value >= 0) out.completion_delay_ms = value;
        else errors.push(`${at} must be a number >= 0`);
        break;
      case 'item_error_rate':
        if (isRate(value)) out.item_error_rate = value;
        else errors.push(`${at} must be a number from 0 to 1`);
        break;
      case 'expire_next':
        if (Number.isInteger(value) && (value as number) >= 0) out.expire_next = value as number;
        else errors.push(`${at} must be an integer >= 0`);
        break;
      case 'down':
        if (typeof value === 'boolean') out.down = value;
        else errors.push(`${at} must be a boolean`);
        break;
      default:
        errors.push(`${at} is not a knob`);
    }
  }
  return out;
}

function mergeProvider(base: ProviderKnobs, patch: unknown, path: string, errors: string[]): ProviderKnobs {
  const out: ProviderKnobs = { ...base, error_statuses: [...base.error_statuses], batch: { ...base.batch } };
  if (!isObject(patch)) {
    errors.push(`${path} must be an object`);
    return out;
  }
  for (const [key, value] of Object.entries(patch)) {
    const at = `${path}.${key}`;
    switch (key) {
      case 'latency': {
        const latency = validateLatency(value, at, errors);
        if (latency) out.latency = latency;
        break;
      }
      case 'error_rate':
      case 'hang_rate':
      case 'malformed_rate':
        if (isRate(value)) out[key] = value;
        else errors.push(`${at} must be a number from 0 to 1`);
        break;
      case 'error_statuses':
        if (Array.isArray(value) && value.length > 0 && value.every((s) => Number.isInteger(s) && s >= 400 && s <= 599)) {
          out.error_statuses = value as number[];
        } else errors.push(`${at} must be a non-empty list of statuses 400..599`);
        break;
      case 'retry_after_s':
        if (isNumber(value) && value >= 0) out.retry_after_s = value;
        else errors.push(`${at} must be a number >= 0`);
        break;
      case 'down':
        if (typeof value === 'boolean') out.down = value;
        else errors.push(`${at} must be a boolean`);
        break;
      case 'batch':
        out.batch = mergeBatch(base.batch, value, at, errors);
        break;
      default:
        errors.push(`${at} is not a knob`);
    }
  }
  return out;
}

/** Validates `patch` (untrusted JSON) and merges it onto `base` per provider; `base` is not changed. */
export function mergeKnobs(base: Knobs, patch: unknown): MergeResult {
  const errors: string[] = [];
  if (!isObject(patch)) return { ok: false, errors: ['knobs must be a JSON object'] };
  const knobs: Knobs = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'seed') {
      if (Number.isInteger(value)) knobs.seed = value as number;
      else errors.push('seed must be an integer');
    } else if (key === 'openai' || key === 'anthropic') {
      knobs[key] = mergeProvider(base[key], value, key, errors);
    } else {
      errors.push(`${key} is not a knob (expected seed, openai, anthropic)`);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, knobs };
}

/** Parses the SIMULATOR_KNOBS environment value (JSON); empty means defaults. Throws on bad input. */
export function knobsFromEnv(raw: string | undefined): Knobs {
  if (raw === undefined || raw.trim() === '') return defaultKnobs();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('SIMULATOR_KNOBS is not valid JSON');
  }
  const result = mergeKnobs(defaultKnobs(), parsed);
  if (!result.ok) throw new Error(`SIMULATOR_KNOBS is invalid: ${result.errors.join('; ')}`);
  return result.knobs;
}
