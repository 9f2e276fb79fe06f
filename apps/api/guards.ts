import type { GatewayConfig } from '../../libs/config/types.ts';
import { clientCallbackAllowlist, clientLimits } from '../../libs/config/clients.ts';
import type { BudgetStore, BudgetSnapshot } from '../../libs/budget/budgetStore.ts';
import type { RateLimiter } from '../../libs/ratelimit/rateLimiter.ts';
import { rateLimitedError } from '../../libs/ratelimit/rateLimiter.ts';
import { budgetExhaustedError } from '../../libs/budget/exhausted.ts';
import { capReached } from '../../libs/budget/admission.ts';
import { budgetLimits } from '../../libs/budget/reservation.ts';
import { cheapestJobMicros } from '../../libs/pipeline/route.ts';
import { checkCallbackUrl } from '../../libs/webhooks/ssrf.ts';

/** Milliseconds the API reuses one budget snapshot. Default 1000: the workers enforce the budget exactly. */
export const BUDGET_SNAPSHOT_TTL_MS = 1000;

/** Reads per minute of a client whose rate_limits.json entry names no `read_rpm`. */
export const DEFAULT_READ_RPM = 1200;

/** What the intake checks need. */
export interface GuardDeps {
  config: () => GatewayConfig;
  rateLimiter: RateLimiter;
  budget: BudgetStore;
  /** Hosts every client may call back (GATEWAY_CALLBACK_ALLOWLIST). */
  callbackAllowlist: string[];
  /** Resolves a host name for the SSRF check; tests inject one. Default: DNS. */
  resolve?: (host: string) => Promise<string[]>;
  /** Milliseconds one budget snapshot is reused. Default BUDGET_SNAPSHOT_TTL_MS. */
  snapshotTtlMs?: number;
}

/**
 * The checks a submission passes before it is queued: the client's rate limit, the budget's hard
 * cap (under the `reject` policy), and the callback URL's SSRF rules.
 */
export class IntakeGuards {
  readonly #deps: GuardDeps;
  #snapshot: { at: number; value: Promise<BudgetSnapshot> } | undefined;
  #minJob: { cfg: GatewayConfig; maxOut: number; at: number; micros: number } | undefined;

  constructor(deps: GuardDeps) {
    this.#deps = deps;
  }

  /** Throws 429 `rate_limited` when the client is over its submissions per minute. */
  async rateLimit(clientId: string): Promise<void> {
    const limit = clientLimits(this.#deps.config(), clientId);
    if (!limit) return;
    const granted = await this.#deps.rateLimiter.acquireClient(clientId, limit.rpm);
    if (!granted.ok) throw rateLimitedError(granted.waitMs);
  }

  /** Throws 429 `rate_limited` when the client is over its reads per minute (`read_rpm`, a budget apart from submissions). */
  async readRateLimit(clientId: string): Promise<void> {
    const limit = clientLimits(this.#deps.config(), clientId);
    if (!limit) return;
    const granted = await this.#deps.rateLimiter.acquireClientRead(clientId, limit.read_rpm ?? DEFAULT_READ_RPM);
    if (!granted.ok) throw rateLimitedError(granted.waitMs);
  }

  /** Throws 429 `budget_exhausted` once no job of `feature` can fit the budget and the policy is `reject`. */
  async budgetOpen(feature: string): Promise<void> {
    const cfg = this.#deps.config();
    if (cfg.rateLimits.budget.on_exhausted !== 'reject') return;
    const maxOut = cfg.features[feature]?.output.max_output_tokens ?? 0;
    const now = Date.now();
    const minJob = this.#cheapestJob(cfg, maxOut, now);
    const cap = capReached(await this.#budgetSnapshot(now), budgetLimits(cfg.rateLimits.budget), minJob);
    if (cap) throw budgetExhaustedError(cap, now);
  }

  /** Throws 400 `callback_url_*` unless the URL is https to a public address, or allowlisted. */
  async callbackAllowed(clientId: string, url: string): Promise<void> {
    const own = clientCallbackAllowlist(this.#deps.config(), clientId);
    await checkCallbackUrl(url, { allowlist: [...this.#deps.callbackAllowlist, ...own], ...(this.#deps.resolve ? { resolve: this.#deps.resolve } : {}) });
  }

  /** cheapestJobMicros, worked out again once per snapshot period or config reload (it walks every model's price table). */
  #cheapestJob(cfg: GatewayConfig, maxOut: number, now: number): number {
    const kept = this.#minJob;
    if (kept && kept.cfg === cfg && kept.maxOut === maxOut && now - kept.at < (this.#deps.snapshotTtlMs ?? BUDGET_SNAPSHOT_TTL_MS)) return kept.micros;
    const micros = cheapestJobMicros(cfg, maxOut, new Date(now));
    this.#minJob = { cfg, maxOut, at: now, micros };
    return micros;
  }

  #budgetSnapshot(now: number): Promise<BudgetSnapshot> {
    if (!this.#snapshot || now - this.#snapshot.at >= (this.#deps.snapshotTtlMs ?? BUDGET_SNAPSHOT_TTL_MS)) {
      const value = this.#deps.budget.snapshot();
      value.catch(() => (this.#snapshot = undefined));
      this.#snapshot = { at: now, value };
    }
    return this.#snapshot.value;
  }
}
