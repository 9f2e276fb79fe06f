import { describe, expect, test } from 'vitest';
import { renderTemplate } from './render.ts';

describe('renderTemplate', () => {
  test('fills plain, dotted, array and object placeholders', () => {
    const out = renderTemplate('Role: {{current_role}} | {{degree.level}} in {{ degree.field }} | {{skills}} | {{market}}', {
      current_role: 'Nurse',
      degree: { level: 'bachelor', field: 'Nursing' },
      skills: ['triage', 'EHR'],
      market: { trend: 'rising' },
    });
    expect(out).toBe('Role: Nurse | bachelor in Nursing | triage, EHR | {"trend":"rising"}');
  });

  test('says "not given" for absent values and keeps numbers', () => {
    expect(renderTemplate('{{goals}} / {{years}} / {{a.b.c}}', { years: 0 })).toBe('not given / 0 / not given');
  });
});
