import { describe, expect, it } from 'vitest';
import { defaultKnobs, knobsFromEnv, mergeKnobs } from './knobs.ts';
import { decideOutcome } from './outcome.ts';
import { createRng } from './random.ts';

describe('mergeKnobs', () => {
  it('merges per provider and leaves the other provider and the base untouched', () => {
    const base = defaultKnobs();
    const result = mergeKnobs(base, { openai: { error_rate: 0.5, latency: { kind: 'lognormal', p50_ms: 400, p95_ms: 1500 } } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.knobs.openai.error_rate).toBe(0.5);
    expect(result.knobs.openai.hang_rate).toBe(0);
    expect(result.knobs.openai.latency).toEqual({ kind: 'lognormal', p50_ms: 400, p95_ms: 1500 });
    expect(result.knobs.anthropic).toEqual(base.anthropic);
    expect(base.openai.error_rate).toBe(0);
  });

  it.each([
    [{ openai: { error_rate: 1.5 } }, 'openai.error_rate'],
    [{ anthropic: { hang_rate: -0.1 } }, 'anthropic.hang_rate'],
    [{ openai: { down: 'yes' } }, 'openai.down'],
    [{ openai: { error_statuses: [] } }, 'openai.error_statuses'],
    [{ openai: { error_statuses: [200] } }, 'openai.error_statuses'],
    [{ openai: { latency: { kind: 'lognormal', p50_ms: 500, p95_ms: 100 } } }, 'openai.latency'],
    [{ openai: { latency: { kind: 'uniform' } } }, 'openai.latency.kind'],
    [{ openai: { retry_after_s: -1 } }, 'openai.retry_after_s'],
    [{ openai: { bogus: 1 } }, 'openai.bogus'],
    [{ gemini: {} }, 'gemini'],
    [{ seed: 1.5 }, 'seed'],
  ])('refuses %j', (patch, field) => {
    const result = mergeKnobs(defaultKnobs(), patch);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join(' ')).toContain(field);
  });

  it('refuses a non-object', () => {
    expect(mergeKnobs(defaultKnobs(), [1]).ok).toBe(false);
  });

  it('reads SIMULATOR_KNOBS', () => {
    expect(knobsFromEnv(undefined)).toEqual(defaultKnobs());
    expect(knobsFromEnv('{"seed":9,"anthropic":{"down":true}}')).toMatchObject({ seed: 9, anthropic: { down: true } });
    expect(() => knobsFromEnv('{nope')).toThrow(/not valid JSON/);
    expect(() => knobsFromEnv('{"openai":{"error_rate":3}}')).toThrow(/error_rate/);
  });
});

describe('decideOutcome', () => {
  const knobs = defaultKnobs().openai;

  it('rates 0 and 1 are exact', () => {
    const rng = createRng(5);
    for (let i = 0; i < 2000; i++) expect(decideOutcome(knobs, rng).kind).toBe('ok');
    for (let i = 0; i < 2000; i++) expect(decideOutcome({ ...knobs, error_rate: 1 }, rng).kind).toBe('error');
    for (let i = 0; i < 2000; i++) expect(decideOutcome({ ...knobs, hang_rate: 1 }, rng).kind).toBe('hang');
    for (let i = 0; i < 2000; i++) expect(decideOutcome({ ...knobs, malformed_rate: 1 }, rng).kind).toBe('malformed');
    expect(decideOutcome({ ...knobs, down: true, hang_rate: 1 }, rng).kind).toBe('down');
  });

  it('injects errors at about the configured rate, statuses chosen uniformly', () => {
    const rng = createRng(11);
    const statuses = new Map<number, number>();
    let errors = 0;
    for (let i = 0; i < 20_000; i++) {
      const o = decideOutcome({ ...knobs, error_rate: 0.25, error_statuses: [429, 503] }, rng);
      if (o.kind === 'error') {
        errors++;
        statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
      }
    }
    expect(errors / 20_000).toBeGreaterThan(0.23);
    expect(errors / 20_000).toBeLessThan(0.27);
    expect((statuses.get(429) ?? 0) / errors).toBeGreaterThan(0.45);
    expect((statuses.get(503) ?? 0) / errors).toBeGreaterThan(0.45);
  });

  it('replays the same sequence for the same seed', () => {
    const k = { ...knobs, error_rate: 0.3, hang_rate: 0.1, malformed_rate: 0.2 };
    const run = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 50 }, () => decideOutcome(k, rng));
    };
    expect(run(8)).toEqual(run(8));
    expect(run(8)).not.toEqual(run(9));
  });
});
