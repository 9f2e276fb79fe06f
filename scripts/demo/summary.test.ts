import { describe, expect, test } from 'vitest';
import { formatSummary, summarise } from './summary.ts';

const job = (provider: string, ms: number, cost: number) => ({
  status: 'completed',
  provider,
  usage: { input_tokens: 100, output_tokens: 200 },
  cost_usd: cost,
  latency_ms: { provider: ms, total: ms + 5 },
});

describe('demo summary', () => {
  test('groups by provider with percentiles, tokens and cost', () => {
    const rows = summarise([job('openai', 100, 0.01), job('openai', 300, 0.02), job('anthropic', 50, 0.001), { status: 'failed' }]);
    expect(rows.map((r) => r.provider)).toEqual(['(failed)', 'anthropic', 'openai']);
    const openai = rows.find((r) => r.provider === 'openai')!;
    expect(openai).toMatchObject({ jobs: 2, p50Ms: 200, p95Ms: 290, inputTokens: 200, outputTokens: 400 });
    expect(openai.costUsd).toBeCloseTo(0.03, 10);
    expect(formatSummary(rows)).toMatch(/total\s+4/);
  });
});
