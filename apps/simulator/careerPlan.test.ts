import { describe, expect, it } from 'vitest';
import { careerPlan, extractFacts } from './careerPlan.ts';

const PROMPT = 'Current role: Registered Nurse\nTarget sector: Health tech\nYears of experience: 6\nSkills: triage, EHR systems';

describe('careerPlan', () => {
  it('is deterministic for a prompt', () => {
    expect(careerPlan(PROMPT)).toBe(careerPlan(PROMPT));
  });

  it('weaves in the role and sector from labelled lines', () => {
    const text = careerPlan(PROMPT);
    expect(text).toContain('Registered Nurse');
    expect(text).toContain('Health tech');
    expect(text).toContain('6 years of experience');
    expect(text).toMatch(/First 30 days/);
    expect(text).toMatch(/Days 31-60/);
    expect(text).toMatch(/Days 61-90/);
    expect(text).toMatch(/Salary outlook/);
    expect(text.split('\n\n').length).toBeGreaterThanOrEqual(6);
  });

  it('varies across prompts', () => {
    const answers = new Set(Array.from({ length: 30 }, (_, i) => careerPlan(`Current role: Analyst ${i}\nTarget sector: Finance`)));
    const openings = new Set([...answers].map((a) => a.split('\n')[0]?.replace(/Analyst \d+/, 'X')));
    expect(answers.size).toBe(30);
    expect(openings.size).toBeGreaterThan(1);
  });

  it('falls back to neutral phrases without labels', () => {
    const facts = extractFacts('Please help me plan my career.');
    expect(facts.role).toBe('your current role');
    expect(facts.sector).toBe('your chosen sector');
    expect(careerPlan('Please help me plan my career.').length).toBeGreaterThan(800);
  });

  it('recognises label variants', () => {
    const facts = extractFacts('- Job title: Teacher\n- Industry: EdTech.\nTarget role: Instructional Designer');
    expect(facts).toMatchObject({ role: 'Teacher', sector: 'EdTech', targetRole: 'Instructional Designer' });
  });
});
