import { describe, expect, test } from 'vitest';
import { loadConfig } from '../config/load.ts';
import { allCandidates, candidateWorstCase, chainWithinBudget, chainWorstCase, failoverChain, modelServedBy, type Candidate } from './route.ts';

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

describe('chainWithinBudget', () => {
  const at = new Date('2026-11-25T00:00:00Z');
  const priced = (c: Candidate) => ({ ...c, worstCaseMicros: candidateWorstCase(c, 1000, 800, at) });
  const claudeChain = failoverChain(cfg, experiment, claude!).map(priced);
  const everyone = allCandidates(cfg).map(priced);
  const [ownClaude, gptBackup] = claudeChain;

  test('a Claude job whose chain (priced at GPT-4) does not fit keeps its own model, without the backup', () => {
    const within = chainWithinBudget(claudeChain, everyone, ownClaude!.worstCaseMicros);
    expect(within).toEqual({ chain: [ownClaude], downgraded: false });
  });

  test('a GPT-4 job that cannot afford GPT-4 is downgraded to the cheapest model that fits', () => {
    const gptChain = failoverChain(cfg, experiment, gpt4!).map(priced);
    const within = chainWithinBudget(gptChain, everyone, ownClaude!.worstCaseMicros);
    expect(gptBackup!.worstCaseMicros).toBeGreaterThan(ownClaude!.worstCaseMicros);
    expect(within?.downgraded).toBe(true);
    expect(within?.chain.map((c) => c.model)).toEqual(['claude-3-5-sonnet-20241022']);
  });

  test('nothing fits: null', () => {
    expect(chainWithinBudget(claudeChain, everyone, 1)).toBeNull();
  });
});

describe('modelServedBy', () => {
  const own = { provider: 'anthropic', model: 'claude-3-5-sonnet-20241022' };
  test.each([
    ['its own model, no budget pressure', own, false, 'provider'],
    ['its own model after the budget narrowed the chain', own, true, 'provider'],
    ['the backup provider', { provider: 'openai', model: 'gpt-4' }, false, 'failover'],
    ['another model the budget chose', { provider: 'openai', model: 'gpt-4o-mini' }, true, 'downgrade'],
    ['its own provider with another model, chosen by the budget', { provider: 'anthropic', model: 'claude-3-haiku' }, true, 'downgrade'],
  ] as const)('%s', (_name, answered, downgraded, expected) => {
    expect(modelServedBy(own, answered, downgraded)).toBe(expected);
  });
});
