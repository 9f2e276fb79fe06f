/**
 * What a viewer sees of a queued job: its data with the personal fields its feature's
 * `privacy.personal_fields` names replaced by `[redacted]`, and the answer too unless
 * `privacy.answer_is_personal` is false. Pure; Bull Board's formatters carry it out. It fails
 * closed: a feature without a `privacy` section, or a job whose feature is unknown, shows neither
 * its input nor its metadata nor its answer, and a queue it does not know shows no data at all.
 */
import type { FeatureConfig, FeaturePrivacySettings } from '../config/types.ts';
import { LLM_QUEUE } from '../queue/jobs.ts';
import { REDACTED } from '../telemetry/redact.ts';
import { WEBHOOK_QUEUE } from '../webhooks/queue.ts';

/** Personal fields assumed for a feature that names none: everything the client sent about the user. */
export const DEFAULT_PRIVACY: Required<FeaturePrivacySettings> = { personal_fields: ['input', 'metadata'], answer_is_personal: true };

type Path = readonly string[];

/** Where a request field (`user_id`, `callback_url`, `input…`, `metadata…`) and the answer live in one queue's job data. */
interface DataLayout {
  /** Locations of each top-level request field in the job data (a field may be copied in several places). */
  fields: Record<'input' | 'metadata' | 'user_id' | 'callback_url', Path[]>;
  answer: Path;
  /** Where the job data names its feature. */
  feature: Path;
}

// The LLM job carries the request as the API queued it (LlmJobData).
const LLM_LAYOUT: DataLayout = {
  fields: { input: [['input']], metadata: [['metadata']], user_id: [['userId']], callback_url: [['callbackUrl']] },
  answer: ['answer', 'text'],
  feature: ['feature'],
};

// A delivery carries the public job (never its input) as the webhook body's `data` (WebhookJobData).
const WEBHOOK_LAYOUT: DataLayout = {
  fields: { input: [], metadata: [['payload', 'data', 'metadata']], user_id: [['payload', 'data', 'user_id']], callback_url: [['url'], ['payload', 'data', 'callback_url']] },
  answer: ['payload', 'data', 'result', 'text'],
  feature: ['payload', 'data', 'feature'],
};

const LAYOUTS: Record<string, DataLayout> = { [LLM_QUEUE]: LLM_LAYOUT, [WEBHOOK_QUEUE]: WEBHOOK_LAYOUT };

/**
 * The job `data` of queue `queueName` as a viewer sees it: a copy with the personal fields of
 * `features[data.feature].privacy` redacted (see the module comment for the defaults).
 */
export function redactJobData(queueName: string, data: unknown, features: Record<string, FeatureConfig>): unknown {
  const layout = Object.hasOwn(LAYOUTS, queueName) ? LAYOUTS[queueName] : undefined;
  if (!layout || !isRecord(data)) return data === undefined || data === null ? data : REDACTED;
  const featureName = valueAt(data, layout.feature);
  const feature = typeof featureName === 'string' && Object.hasOwn(features, featureName) ? features[featureName] : undefined;
  const privacy = feature?.privacy ?? DEFAULT_PRIVACY;
  const out = structuredClone(data);
  for (const field of privacy.personal_fields) {
    const [head = '', ...rest] = field.split('.');
    const places = Object.hasOwn(layout.fields, head) ? layout.fields[head as keyof DataLayout['fields']] : [];
    for (const place of places) redactAt(out, [...place, ...rest]);
  }
  if (privacy.answer_is_personal !== false) redactAt(out, layout.answer);
  return out;
}

/**
 * A job's return value as a viewer sees it: numbers, booleans, nulls and a `status` string are
 * kept; any other string or nested value is redacted, since no feature config describes it.
 */
export function redactReturnValue(value: unknown): unknown {
  if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (!isRecord(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = v === null || typeof v === 'number' || typeof v === 'boolean' || (key === 'status' && typeof v === 'string') ? v : REDACTED;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(obj: Record<string, unknown>, path: Path): unknown {
  let at: unknown = obj;
  for (const key of path) {
    if (!isRecord(at) || !Object.hasOwn(at, key)) return undefined;
    at = at[key];
  }
  return at;
}

/** Replaces the value at `path` (own keys only) when there is one; absent or null values stay as they are. */
function redactAt(obj: Record<string, unknown>, path: Path): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const key = path.at(-1);
  if (key === undefined || !isRecord(parent) || !Object.hasOwn(parent, key) || parent[key] === null) return;
  parent[key] = REDACTED;
}
