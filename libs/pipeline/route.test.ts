import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { allCandidates, chainWorstCase, failoverChain } from './route.ts';

const cfg = loadConfig('config');
const experiment = cfg.abTests.experiments.career_model_ab!;
const [gpt4, claude] = experiment.variants;

describe('failoverChain', () => {
  test('tries the selected provider, then its backup with the experiment model', () => {
    expect(failoverChain(cfg, experiment, gpt4!).map((c) => `${c.provider}/${c.model}`)).toEqual(['openai/gpt-4', 'anthropic/claude-3-5-sonnet-20241022']);
    expect(failoverChain(cfg, experiment, claude!).map((c) => c.provider)).toEqual(['anthropic', 'openai']);
  });

  test('reserves for the dearest model of the chain', () => {
    const at = new Date('2026-11-25T00:00:00Z');
    // GPT-4: 1000 in x $30 + 800 out x $60 per million = 0.078 USD.
    expect(chainWorstCase(failoverChain(cfg, experiment, claude!), 1000, 800, at)).toBe(78_000);
    expect(allCandidates(cfg)).toHaveLength(2);
  });
});
