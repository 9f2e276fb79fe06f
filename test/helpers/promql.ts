// A small PromQL scanner for tests: which series (metric names and label matchers) an expression
// selects. It does not validate syntax (promtool does that); it only has to find every selector in
// the rules and dashboard queries we ship, so that a renamed metric or label cannot slip through.

/** One label matcher of a selector, e.g. `phase="total"`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** One vector selector: `name{matchers}` (name undefined for a bare `{...}` selector). */
export interface Selector {
  name: string | undefined;
  matchers: LabelMatcher[];
}

// Words that are PromQL syntax rather than series names when not followed by `(`.
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);
// Modifiers whose parenthesised list holds label names, not expressions.
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;
const LABEL = /[A-Za-z_][A-Za-z0-9_]*/y;

/** The string literal starting at `i` (quote included) and the index after it. */
function readString(expr: string, i: number): { value: string; end: number } {
  const quote = expr.charAt(i);
  let value = '';
  let j = i + 1;
  while (j < expr.length && expr.charAt(j) !== quote) {
    if (expr.charAt(j) === '\\' && quote !== '`') j += 1;
    value += expr.charAt(j);
    j += 1;
  }
  if (j >= expr.length) throw new Error(`unterminated string at ${i} in: ${expr}`);
  return { value, end: j + 1 };
}

/** The index just after the first `close` at or after `from`; throws when there is none. */
function after(expr: string, close: string, from: number): number {
  const at = expr.indexOf(close, from);
  if (at < 0) throw new Error(`'${close}' expected after ${from} in: ${expr}`);
  return at + 1;
}

function skipSpace(expr: string, i: number): number {
  while (i < expr.length && /\s/.test(expr.charAt(i))) i += 1;
  return i;
}

/** The matchers of the `{...}` starting at `i`, and the index after the closing brace. */
function readMatchers(expr: string, i: number): { matchers: LabelMatcher[]; end: number } {
  const matchers: LabelMatcher[] = [];
  let j = skipSpace(expr, i + 1);
  while (expr.charAt(j) !== '}') {
    LABEL.lastIndex = j;
    const label = LABEL.exec(expr);
    if (!label) throw new Error(`label name expected at ${j} in: ${expr}`);
    j = skipSpace(expr, j + label[0].length);
    const op = (['=~', '!~', '!=', '='] as const).find((o) => expr.startsWith(o, j));
    if (!op) throw new Error(`matcher operator expected at ${j} in: ${expr}`);
    j = skipSpace(expr, j + op.length);
    if (expr.charAt(j) === '' || !`"'\``.includes(expr.charAt(j))) throw new Error(`string expected at ${j} in: ${expr}`);
    const str = readString(expr, j);
    matchers.push({ label: label[0], op, value: str.value });
    j = skipSpace(expr, str.end);
    if (expr.charAt(j) === ',') j = skipSpace(expr, j + 1);
    else if (expr.charAt(j) !== '}') throw new Error(`',' or '}' expected at ${j} in: ${expr}`);
  }
  return { matchers, end: j + 1 };
}

/** Every vector selector in a PromQL expression, in order of appearance. */
export function selectorsOf(expr: string): Selector[] {
  const found: Selector[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (c === '#') {
      // A comment runs to the end of the line.
      while (i < expr.length && expr.charAt(i) !== '\n') i += 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = readString(expr, i).end;
    } else if (c === '[') {
      // A range or subquery duration: `[5m]`, `[$__rate_interval]`, `[1h:1m]`.
      i = after(expr, ']', i);
    } else if (c === '{') {
      const { matchers, end } = readMatchers(expr, i);
      found.push({ name: undefined, matchers });
      i = end;
    } else if (c === '$') {
      // A Grafana variable such as $__rate_interval or ${datasource}.
      i += 1;
      if (expr.charAt(i) === '{') i = after(expr, '}', i);
      else while (i < expr.length && /[A-Za-z0-9_]/.test(expr.charAt(i))) i += 1;
    } else if (/[0-9.]/.test(c)) {
      // Numbers and durations (1e3, 0x1f, 5m).
      while (i < expr.length && /[A-Za-z0-9_.]/.test(expr.charAt(i))) i += 1;
    } else if (/[A-Za-z_:]/.test(c)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(expr)![0];
      const next = skipSpace(expr, i + word.length);
      if (expr.charAt(next) === '(' && LABEL_LISTS.has(word)) {
        i = after(expr, ')', next);
      } else if (expr.charAt(next) === '(' || KEYWORDS.has(word.toLowerCase()) || /^(by|without)\s*\(/.test(expr.slice(next))) {
        // A function call, a keyword, or an aggregation with its grouping first (`sum by (le) (...)`).
        i += word.length;
      } else if (expr.charAt(next) === '{') {
        const { matchers, end } = readMatchers(expr, next);
        found.push({ name: word, matchers });
        i = end;
      } else {
        found.push({ name: word, matchers: [] });
        i += word.length;
      }
    } else {
      i += 1;
    }
  }
  return found;
}

/** The distinct metric names an expression selects (by name or by a `__name__` matcher of `=`). */
export function metricNamesOf(expr: string): string[] {
  const names = new Set<string>();
  for (const s of selectorsOf(expr)) {
    if (s.name) names.add(s.name);
    for (const m of s.matchers) if (m.label === '__name__' && m.op === '=') names.add(m.value);
  }
  return [...names];
}
