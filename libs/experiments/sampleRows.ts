/**
 * Made-up experiment rows: one hand-made row and many seeded ones, for the report's tests and for
 * warming the report thread up before its first real report.
 */
import type { Experiment } from '../config/types.ts';
import { seededRng } from '../stats/index.ts';
import type { ExperimentRow } from '../store/types.ts';

/** A completed job of `variant` its own model answered, by unit `u-1` in no particular category; override any field. */
export function experimentRow(variant: string, overrides: Partial<ExperimentRow> = {}): ExperimentRow {
  return {
    variant,
    status: 'completed',
    served_by: 'provider',
    cache: 'miss',
    degraded: false,
    cost_usd: 0.01,
    input_tokens: 500,
    output_tokens: 400,
    provider_latency_ms: 1000,
    total_latency_ms: 1100,
    rating: null,
    queue_latency_ms: 20,
    created_at: '2026-03-30T12:00:00.000Z',
    unit: 'u-1',
    sector: 'technology',
    degree_level: 'bachelor',
    experience_band: '3-5',
    holdout: false,
    lane: 'realtime',
    assignment_known: true,
    ...overrides,
  };
}

/** The GPT-4 against Claude experiment, 50/50, no overrides or holdout; override any field. */
export function twoVariantExperiment(overrides: Partial<Experiment> = {}): Experiment {
  return {
    feature: 'career_path_navigator',
    status: 'running',
    unit: 'user_id',
    salt: 'test-salt',
    variants: [
      { name: 'gpt4', provider: 'openai', model: 'gpt-4', weight: 50 },
      { name: 'claude', provider: 'anthropic', model: 'claude-3-5-sonnet', weight: 50 },
    ],
    overrides: [],
    ...overrides,
  };
}

/**
 * `count` seeded rows of the two-variant experiment: ~20 values per category field, a few
 * failures, failovers and cache hits, log-normal latencies, ratings on a fifth of the answers.
 * `claudeShift` adds to claude's log latency (0: same distribution).
 */
export function seededExperimentRows(count: number, seed = 42, claudeShift = 0.05): ExperimentRow[] {
  const rng = seededRng(seed);
  const bands = ['0-2', '3-5', '6-10', '11-20', '20+'];
  const rows: ExperimentRow[] = new Array(count);
  // Sticky assignment: each user's variant is drawn once.
  const units = Math.max(1, Math.floor(count * 0.3));
  const variantOfUnit = Array.from({ length: units }, () => (rng() < 0.5 ? 'gpt4' : 'claude'));
  for (let i = 0; i < count; i++) {
    const unitIndex = Math.floor(rng() * units);
    const unit = `user-${unitIndex}`;
    const variant = variantOfUnit[unitIndex]!;
    const roll = rng();
    const status = roll < 0.02 ? 'failed' : roll < 0.025 ? 'rejected' : 'completed';
    const path = rng();
    const servedBy = status !== 'completed' ? null : path < 0.9 ? 'provider' : path < 0.95 ? 'cache' : 'failover';
    const latency = Math.round(Math.exp(6.5 + (variant === 'claude' ? claudeShift : 0) + 0.5 * (rng() + rng() + rng() - 1.5)));
    rows[i] = experimentRow(variant, {
      status,
      served_by: servedBy,
      cost_usd: status === 'completed' ? (variant === 'gpt4' ? 0.03 : 0.012) * (0.5 + rng()) : 0,
      provider_latency_ms: servedBy === 'provider' ? latency : null,
      rating: servedBy === 'provider' && rng() < 0.2 ? 1 + Math.floor(rng() * 5) : null,
      unit,
      sector: `sector_${Math.floor(rng() * 20)}`,
      degree_level: `degree_${Math.floor(rng() * 20)}`,
      experience_band: bands[Math.floor(rng() * bands.length)]!,
    });
  }
  return rows;
}
