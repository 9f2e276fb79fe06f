/**
 * The fault suite's verdicts and its table: plain data in, text out, so the rules that decide
 * PASS, FAIL and SKIP (and the exit code) are tested without starting anything.
 */

/** One figure a scenario measured, against its target. */
export interface Check {
  /** What was measured, e.g. 'completed'. */
  figure: string;
  /** The measured value as shown, e.g. '2000 / 2000'. */
  measured: string;
  /** The target as shown, e.g. '= 2000'. */
  target: string;
  pass: boolean;
}

/** How a scenario ended. SKIP: it could not run here (the reason is its note); ERROR: the harness failed. */
export type Outcome = 'PASS' | 'FAIL' | 'SKIP' | 'ERROR';

/** One scenario's line of the table. */
export interface ScenarioResult {
  /** Its letter, e.g. 'a'. */
  id: string;
  /** What was done, e.g. '5 SIGKILLs of 2 workers during 2000 jobs'. */
  did: string;
  checks: Check[];
  outcome: Outcome;
  /** Wall time of the scenario, milliseconds. */
  wallMs: number;
  /** Why it was skipped or errored, or anything a reader needs beside the figures. */
  note?: string;
}

/** A check: `pass` decides, the rest is shown. */
export function check(figure: string, measured: string | number, target: string, pass: boolean): Check {
  return { figure, measured: String(measured), target, pass };
}

/** PASS when there is at least one check and every check passed; FAIL otherwise. */
export function outcomeOf(checks: readonly Check[]): Outcome {
  return checks.length > 0 && checks.every((c) => c.pass) ? 'PASS' : 'FAIL';
}

/** Exit code of the suite: 1 when any scenario failed or errored; skips do not fail it. */
export function exitCodeOf(results: readonly ScenarioResult[]): number {
  return results.some((r) => r.outcome === 'FAIL' || r.outcome === 'ERROR') ? 1 : 0;
}

/** Micro-dollars as dollars with 6 decimals, e.g. '$3.981234'. */
export const usd = (micros: number): string => `$${(micros / 1_000_000).toFixed(6)}`;

/** Milliseconds as seconds with one decimal, e.g. '12.3 s'. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const HEADER = ['scenario', 'what was done', 'figure', 'measured', 'target', 'ok', 'result', 'wall'];

/**
 * The table: one block per scenario, its first line naming it with its outcome and wall time, one
 * line per figure (with ✓ or ✗), then its note if any.
 */
export function formatTable(results: readonly ScenarioResult[]): string {
  const lines: string[][] = [];
  for (const r of results) {
    const rows = r.checks.length > 0 ? r.checks : [check('-', '-', '-', r.outcome !== 'FAIL')];
    rows.forEach((c, i) => {
      const first = i === 0;
      lines.push([first ? r.id : '', first ? r.did : '', c.figure, c.measured, c.target, r.checks.length > 0 ? (c.pass ? '✓' : '✗') : '', first ? r.outcome : '', first ? seconds(r.wallMs) : '']);
    });
    if (r.note) lines.push(['', `  note: ${r.note}`, '', '', '', '', '', '']);
  }
  // A note is free text under its scenario: it does not widen the columns.
  const sized = lines.filter((l) => !l[1]!.startsWith('  note: '));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...sized.map((l) => l[i]!.length)));
  const render = (cells: string[]) => (cells[1]!.startsWith('  note: ') ? cells[1]!.trimStart() : cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  return [render(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join('\n');
}

/** A one-line summary, e.g. '5 passed, 1 failed, 0 errors, 2 skipped'. */
export function summary(results: readonly ScenarioResult[]): string {
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  return `${count('PASS')} passed, ${count('FAIL')} failed, ${count('ERROR')} errors, ${count('SKIP')} skipped`;
}

/** The suite's command line: `--quick` for the small sizes, `--only a,c` for some scenarios. */
export interface ChaosArgs {
  quick: boolean;
  only: string[];
}

/** Parses the command line against the known scenario letters; throws with a usage message on bad input. */
export function parseChaosArgs(argv: readonly string[], known: readonly string[]): ChaosArgs {
  let quick = false;
  let only = [...known];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      const picked = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = picked.filter((s) => !known.includes(s));
      if (picked.length === 0 || unknown.length > 0) throw new Error(`--only takes a comma-separated list of ${known.join(', ')}; got "${value ?? ''}"`);
      only = known.filter((k) => picked.includes(k));
    } else throw new Error(`unknown option "${arg}" (expected --quick, --only ${known.join(',')})`);
  }
  return { quick, only };
}
