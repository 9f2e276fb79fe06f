import { expect, test } from 'vitest';
import { loadConfig } from '../../libs/config/load.ts';
import { formatLaneCosts, laneCosts } from './lanes.ts';

const cfg = loadConfig('config');
const at = new Date('2026-12-02T12:00:00Z');
const usage = { input_tokens: 1000, output_tokens: 500 };

test('a batch answer is priced as paid and at the realtime price of the same tokens', () => {
  const rows = laneCosts(
    [
      { status: 'completed', lane: 'batch', provider: 'openai', model: 'gpt-4', usage, cost_usd: 0.03 },
      { status: 'completed', lane: 'realtime', provider: 'openai', model: 'gpt-4', usage, cost_usd: 0.06 },
      { status: 'completed', lane: 'realtime', provider: 'openai', model: 'gpt-4', usage, cost_usd: 0 },
      { status: 'failed', lane: 'realtime', provider: null, model: null, usage: null, cost_usd: null },
    ],
    cfg,
    at,
  );
  expect(rows).toEqual([
    { lane: 'realtime', jobs: 2, costUsd: 0.06, realtimeUsd: 0.06 },
    { lane: 'batch', jobs: 1, costUsd: 0.03, realtimeUsd: 0.06 },
  ]);
  expect(formatLaneCosts(rows)).toContain('saved 25.0%');
});
