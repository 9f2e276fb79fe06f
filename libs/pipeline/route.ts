import type { Experiment, GatewayConfig, ProviderSettings, Variant } from '../config/types.ts';
import { priceAt } from '../budget/cost.ts';
import { chooseDowngrade, worstCaseMicros } from '../budget/reservation.ts';
import { RETRY_AFTER_JITTER_MS } from '../resilience/backoff.ts';

/** One provider and model the pipeline may call for a job. */
export interface Candidate {
  provider: string;
  model: string;
  settings: ProviderSettings;
}

/**
 * The providers to try, in order: the A/B-selected one, then its failover list. A backup provider
 * serves with the model the experiment gives it (so a failover stays comparable), else its first.
 */
export function failoverChain(cfg: GatewayConfig, experiment: Experiment, variant: Variant): Candidate[] {
  const names = [variant.provider, ...(cfg.providers.failover[variant.provider] ?? [])];
  const chain: Candidate[] = [];
  for (const name of new Set(names)) {
    const settings = cfg.providers.providers[name];
    if (!settings) continue;
    const model = name === variant.provider ? variant.model : (experiment.variants.find((v) => v.provider === name)?.model ?? Object.keys(settings.models)[0]);
    if (model && settings.models[model]) chain.push({ provider: name, model, settings });
  }
  return chain;
}

/** A candidate with what calling it may cost at most, in micro-dollars. */
export type PricedCandidate = Candidate & { worstCaseMicros: number };

/** The chain a budget hold can pay for; `downgraded` when the variant's own model had to give way. */
export interface BudgetChain {
  chain: PricedCandidate[];
  downgraded: boolean;
}

/**
 * What to call when the hold for the whole chain was refused with `availableMicros` left: the
 * variant's own model, with only the failover candidates the budget still covers, when it fits
 * (the answer then stays in the model comparison); else the cheapest candidate anywhere that fits
 * (a downgrade); else null.
 */
export function chainWithinBudget(chain: readonly PricedCandidate[], everyCandidate: readonly PricedCandidate[], availableMicros: number): BudgetChain | null {
  const fits = chain.filter((c) => c.worstCaseMicros <= availableMicros);
  if (fits.length > 0 && fits[0] === chain[0]) return { chain: fits, downgraded: false };
  const cheaper = chooseDowngrade(everyCandidate, availableMicros);
  return cheaper ? { chain: [cheaper], downgraded: true } : null;
}

/**
 * How a model-served answer is labelled: `provider` whenever the variant's own provider and model
 * answered (whatever the budget did), `downgrade` when the budget put another model in its place,
 * else `failover`.
 */
export function modelServedBy(variant: Pick<Variant, 'provider' | 'model'>, answered: Pick<Candidate, 'provider' | 'model'>, downgraded: boolean): 'provider' | 'failover' | 'downgrade' {
  if (answered.provider === variant.provider && answered.model === variant.model) return 'provider';
  return downgraded ? 'downgrade' : 'failover';
}

/** Every configured provider and model, cheapest worst case first: what `downgrade` chooses from. */
export function allCandidates(cfg: GatewayConfig): Candidate[] {
  return Object.entries(cfg.providers.providers).flatMap(([provider, settings]) =>
    Object.keys(settings.models).map((model) => ({ provider, model, settings })),
  );
}

/** Worst-case cost of calling `candidate` with this many input tokens, in micro-dollars. */
export function candidateWorstCase(candidate: Candidate, inputTokens: number, maxOutputTokens: number, at: Date): number {
  return worstCaseMicros(inputTokens, maxOutputTokens, priceAt(candidate.settings.models[candidate.model]!, at));
}

/** Micro-dollars the cheapest possible job reserves: the cheapest model's worst case with an empty prompt and `maxOutputTokens`. */
export function cheapestJobMicros(cfg: GatewayConfig, maxOutputTokens: number, at: Date): number {
  return Math.min(...allCandidates(cfg).map((c) => candidateWorstCase(c, 0, maxOutputTokens, at)));
}

/** The reservation that covers any candidate of the chain answering: the largest worst case. */
export function chainWorstCase(chain: Candidate[], inputTokens: number, maxOutputTokens: number, at: Date): number {
  return Math.max(0, ...chain.map((c) => candidateWorstCase(c, inputTokens, maxOutputTokens, at)));
}

/**
 * Longest a call through the whole chain can take, in ms: for every candidate and every try, the
 * timeout, the longest wait before the next try (backoff or an honoured retry-after), and the
 * longest in-place rate-limit wait (`inlineWaitMs` per try); plus a second of slack. A budget hold
 * or single-flight lock shorter than this could expire while the call is still running.
 */
export function chainCallBudgetMs(chain: Candidate[], inlineWaitMs: number): number {
  return (
    1000 +
    chain.reduce((sum, c) => {
      const { max_retries, max_delay_ms, max_retry_after_ms } = c.settings.retry;
      const tries = max_retries + 1;
      return sum + tries * (c.settings.timeout_ms + inlineWaitMs) + max_retries * Math.max(max_delay_ms, max_retry_after_ms + RETRY_AFTER_JITTER_MS);
    }, 0)
  );
}
