import { describe, expect, it } from 'vitest';
import { check, exitCodeOf, formatTable, outcomeOf, parseChaosArgs, summary, usd, type ScenarioResult } from './verdict.ts';

const result = (id: string, outcome: ScenarioResult['outcome'], checks = [check('x', 1, '= 1', outcome !== 'FAIL')], note?: string): ScenarioResult => ({
  id,
  did: `scenario ${id}`,
  checks,
  outcome,
  wallMs: 12_345,
  ...(note ? { note } : {}),
});

describe('chaos verdicts', () => {
  it.each([
    { checks: [check('a', 1, '= 1', true), check('b', 2, '<= 2', true)], outcome: 'PASS' },
    { checks: [check('a', 1, '= 1', true), check('b', 3, '<= 2', false)], outcome: 'FAIL' },
    // A scenario that measured nothing proved nothing.
    { checks: [], outcome: 'FAIL' },
  ] as const)('$outcome for $checks.length checks', ({ checks, outcome }) => {
    expect(outcomeOf(checks)).toBe(outcome);
  });

  it.each([
    { outcomes: ['PASS', 'SKIP'], code: 0 },
    { outcomes: ['PASS', 'FAIL'], code: 1 },
    { outcomes: ['ERROR'], code: 1 },
    { outcomes: [], code: 0 },
  ] as const)('exit code $code for $outcomes', ({ outcomes, code }) => {
    expect(exitCodeOf(outcomes.map((o, i) => result(String(i), o)))).toBe(code);
  });

  it('prints one block per scenario: its outcome and wall time on the first line, a line per figure, then its note', () => {
    const table = formatTable([
      result('a', 'FAIL', [check('completed', '9 / 10', '= 10', false), check('holds', 0, '= 0', true)]),
      result('h', 'SKIP', [], 'no cluster support on this branch'),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+what was done\s+figure\s+measured\s+target\s+ok\s+result\s+wall$/);
    expect(lines[2]).toMatch(/^a\s+scenario a\s+completed\s+9 \/ 10\s+= 10\s+✗\s+FAIL\s+12\.3 s$/);
    expect(lines[3]).toMatch(/^\s+holds\s+0\s+= 0\s+✓$/);
    expect(lines[4]).toMatch(/^h\s+scenario h\s+-\s+-\s+-\s+SKIP\s+12\.3 s$/);
    expect(lines[5]).toBe('note: no cluster support on this branch');
    expect(summary([result('a', 'FAIL'), result('h', 'SKIP')])).toBe('0 passed, 1 failed, 0 errors, 1 skipped');
  });

  it('shows micro-dollars as dollars', () => {
    expect(usd(3_981_234)).toBe('$3.981234');
  });

  it('parses --quick and --only, refusing unknown letters and options', () => {
    const known = ['a', 'b', 'c'];
    expect(parseChaosArgs([], known)).toEqual({ quick: false, only: known });
    expect(parseChaosArgs(['--quick', '--only', 'c,a'], known)).toEqual({ quick: true, only: ['a', 'c'] });
    expect(parseChaosArgs(['--only=b'], known)).toEqual({ quick: false, only: ['b'] });
    expect(() => parseChaosArgs(['--only', 'z'], known)).toThrow(/--only takes/);
    expect(() => parseChaosArgs(['--only'], known)).toThrow(/--only takes/);
    expect(() => parseChaosArgs(['--fast'], known)).toThrow(/unknown option/);
  });
});
