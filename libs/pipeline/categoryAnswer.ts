/**
 * Generic answers per category. While no provider can answer, a job may be served the generic
 * answer of its category (sector, degree level, experience band) — never another user's plan.
 * That answer is written from the category alone, by the feature's own `category_fallback`
 * prompt, in a low-priority job of the same queue: its cost is reserved and settled like any
 * other job's, and it is stored as a record of the client whose paid answer asked for it.
 */
import type { JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/client.ts';
import type { Experiment, FeatureConfig } from '../config/types.ts';
import type { LlmJobData } from '../queue/jobs.ts';
import { UNKNOWN, type Category } from '../features/category.ts';
import { categoryKey } from '../cache/key.ts';
import { renderTemplate } from '../prompts/render.ts';
import type { JobPlan } from './obtainAnswer.ts';

/** The `kind` of a job that writes a category's generic answer. */
export const CATEGORY_ANSWER_KIND = 'category_answer';

/**
 * BullMQ priority of category jobs: any job without a priority runs first, so users' own requests
 * never wait behind them. @defaultValue 1000
 */
export const CATEGORY_JOB_PRIORITY = 1000;

/**
 * Queue options of a category job: low priority, one try, gone from Redis once completed (the
 * store keeps the record). A failed one stays an hour, so that a job BullMQ fails for stalling too
 * often can still be found, and its paid answer settled, by the stalled-out handler.
 */
export const CATEGORY_JOB_OPTIONS: JobsOptions = { priority: CATEGORY_JOB_PRIORITY, attempts: 1, removeOnComplete: true, removeOnFail: { age: 3600 } };

/** Most generic answers one client's traffic asks for per UTC day when the feature does not say. @defaultValue 200 */
export const DEFAULT_MAX_CATEGORY_ANSWERS_PER_DAY = 200;

/** A category job to enqueue: its id doubles as the de-duplication key. */
export interface CategoryJobRequest {
  id: string;
  data: LlmJobData;
  /** Most category jobs the client may ask for per UTC day (the feature's `max_per_client_per_day`). */
  dailyLimit: number;
}

/** True when `data` asks for a category's generic answer rather than a user's plan. */
export function isCategoryJob(data: LlmJobData): boolean {
  return data.kind === CATEGORY_ANSWER_KIND;
}

/**
 * The category job that renews the generic answer the plan's job would fall back to, or null when
 * the feature has none. At most one per category key and `ttl_seconds` window: the job id carries
 * both, and the queue refuses a second job with the same id while the first exists.
 */
export function categoryJobFor(plan: JobPlan, data: LlmJobData, nowMs: number): CategoryJobRequest | null {
  const fallback = plan.feature.category_fallback;
  if (!fallback || !plan.feature.cache.enabled || isCategoryJob(data)) return null;
  const window = Math.floor(nowMs / (fallback.ttl_seconds * 1000));
  return {
    id: `category-${plan.categoryKey}-${window}`,
    dailyLimit: fallback.max_per_client_per_day ?? DEFAULT_MAX_CATEGORY_ANSWERS_PER_DAY,
    data: {
      kind: CATEGORY_ANSWER_KIND,
      clientId: data.clientId,
      feature: data.feature,
      // The category is all it carries: no field of the user's input reaches this job.
      input: { ...plan.category },
      userId: null,
      callbackUrl: null,
      metadata: null,
      variant: plan.variant.name,
      createdAt: new Date(nowMs).toISOString(),
    },
  };
}

/** The category a category job carries, or null when its input is not one. */
export function categoryOf(input: Record<string, unknown>): Category | null {
  const field = (name: string) => (typeof input[name] === 'string' ? (input[name] as string) : null);
  const sector = field('sector');
  const degree = field('degree_level');
  const band = field('experience_band');
  return sector && degree && band ? { sector, degree_level: degree, experience_band: band } : null;
}

/**
 * The plan of a category job: the variant it was asked for, the category prompt filled with the
 * category alone, and the category key as its cache key. Null when the feature no longer has a
 * category prompt, the variant is gone, or the input is not a category.
 */
export function planCategoryJob(feature: FeatureConfig, experiment: Experiment, scope: string, jobId: string, attempt: number, data: LlmJobData): JobPlan | null {
  const fallback = feature.category_fallback;
  const variant = experiment.variants.find((v) => v.name === data.variant);
  const category = categoryOf(data.input);
  if (!fallback || !variant || !category) return null;
  const promptVersion = feature.prompts.active;
  const key = categoryKey({ scope, feature: feature.name, promptVersion, variant: variant.name }, category);
  const fields = Object.fromEntries(Object.entries(category).map(([k, v]) => [k, v === UNKNOWN ? '' : v.replace(/_/g, ' ')]));
  return {
    jobId,
    attempt,
    feature,
    experiment,
    variant,
    // The answer comes from the category prompt, not from the feature's prompt version of that name.
    promptVersion: `category:${promptVersion}`,
    prompt: fallback,
    system: fallback.system,
    user: renderTemplate(fallback.user_template, fields),
    cacheKey: key,
    categoryKey: key,
    category,
    cacheTtlSeconds: fallback.ttl_seconds,
  };
}

/** Options of CategoryAnswers. */
export interface CategoryAnswersOptions {
  /** Milliseconds a process remembers it asked for a category, so busy categories cost no Redis call per job. @defaultValue 600000 */
  rememberMs?: number;
  /** Most categories remembered at once; the memory is cleared past it. @defaultValue 10000 */
  maxRemembered?: number;
  /** Category jobs one process runs at once, so a burst of new categories never fills every worker slot. @defaultValue 1 */
  maxActive?: number;
  /** Clock in Unix ms. @defaultValue Date.now */
  now?: () => number;
}

/** How a process reaches the queue and the per-client daily quota. */
export interface CategoryAnswersPorts {
  /** Enqueues one request (with CATEGORY_JOB_OPTIONS and the request's id as job id). */
  add: (request: CategoryJobRequest) => Promise<unknown>;
  /** Counts one more ask of `clientId` today and answers whether it is within `limit`. */
  admit: (clientId: string, limit: number) => Promise<boolean>;
}

/**
 * A process's side of generic answers: asks for category jobs on behalf of paid answers (at most
 * once per category per `rememberMs` in one process, within each client's daily quota; the
 * queue's job-id rule de-duplicates across processes), and lets only `maxActive` run at once.
 */
export class CategoryAnswers {
  readonly #ports: CategoryAnswersPorts;
  readonly #asked = new Map<string, number>();
  readonly #rememberMs: number;
  readonly #maxRemembered: number;
  readonly #maxActive: number;
  readonly #now: () => number;
  #active = 0;

  constructor(ports: CategoryAnswersPorts, options: CategoryAnswersOptions = {}) {
    this.#ports = ports;
    this.#rememberMs = options.rememberMs ?? 600_000;
    this.#maxRemembered = options.maxRemembered ?? 10_000;
    this.#maxActive = options.maxActive ?? 1;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Enqueues the request unless this process asked for it recently or the client's quota for
   * today is spent; a failed enqueue is forgotten, so the next answer asks again.
   */
  async request(request: CategoryJobRequest): Promise<void> {
    const now = this.#now();
    const until = this.#asked.get(request.id);
    if (until !== undefined && until > now) return;
    if (this.#asked.size >= this.#maxRemembered) this.#asked.clear();
    this.#asked.set(request.id, now + this.#rememberMs);
    try {
      if (await this.#ports.admit(request.data.clientId, request.dailyLimit)) await this.#ports.add(request);
    } catch (error) {
      this.#asked.delete(request.id);
      throw error;
    }
  }

  /** Takes a run slot: true when fewer than `maxActive` category jobs run in this process; pair with end(). */
  tryBegin(): boolean {
    if (this.#active >= this.#maxActive) return false;
    this.#active++;
    return true;
  }

  /** Frees the run slot taken by tryBegin(). */
  end(): void {
    this.#active = Math.max(0, this.#active - 1);
  }
}

/**
 * The Redis side of the daily quota: one counter per client and UTC day under `prefix`, one round
 * trip of two commands. The counter is created with its two-day TTL (SET NX) before it is counted,
 * so it never lives without one, and the INCR keeps that TTL.
 */
export function dailyCategoryQuota(redis: RedisClient, prefix: string, now: () => number = Date.now): CategoryAnswersPorts['admit'] {
  return async (clientId, limit) => {
    const day = new Date(now()).toISOString().slice(0, 10);
    const key = `${prefix}:category:asked:${clientId}:${day}`;
    const results = await redis.pipeline().set(key, 0, 'EX', 2 * 86_400, 'NX').incr(key).exec();
    const [err, count] = results?.[1] ?? [new Error('the quota pipeline was aborted'), 0];
    if (err) throw err;
    return Number(count) <= limit;
  };
}
