import { describe, expect, it } from 'vitest';
import { seededRng } from '../../libs/stats/index.ts';
import { simulatedRating } from './ratings.ts';

describe('simulatedRating', () => {
  const mean = (variant: string, sector: string) => {
    const rng = seededRng(11);
    const draws = Array.from({ length: 4000 }, () => simulatedRating(variant, sector, rng));
    expect(draws.every((r) => Number.isInteger(r) && r >= 1 && r <= 5)).toBe(true);
    return draws.reduce((s, r) => s + r, 0) / draws.length;
  };

  it('rates claude above gpt4 overall and gpt4 above claude in healthcare', () => {
    expect(mean('claude', 'technology')).toBeGreaterThan(mean('gpt4', 'technology') + 0.3);
    expect(mean('gpt4', 'healthcare')).toBeGreaterThan(mean('claude', 'healthcare') + 0.3);
  });

  it('is the same for the same seed', () => {
    const draw = () => {
      const rng = seededRng(5);
      return Array.from({ length: 20 }, () => simulatedRating('gpt4', 'fintech', rng));
    };
    expect(draw()).toEqual(draw());
  });
});
