/**
 * What changed between two configs, for the audit log: the paths that were added, removed or
 * changed, with old and new values for scalars only (objects and arrays are named, not copied),
 * and long strings cut, so a prompt edit does not copy whole prompts into the audit file.
 */

/** A JSON scalar as shown in a change. */
export type Scalar = string | number | boolean | null;

/** One difference between two configs. `from`/`to` are present only where that side is a scalar. */
export interface ConfigChange {
  /** Dotted path with array indexes, e.g. `abTests.experiments.main.variants[1].weight`. */
  path: string;
  change: 'added' | 'removed' | 'changed';
  from?: Scalar;
  to?: Scalar;
}

/** Options of diffConfig. */
export interface ConfigDiffOptions {
  /** Changes listed at most; the rest are counted in `omitted`. @defaultValue 50 */
  maxChanges?: number;
  /** Characters of a string value shown at most, the rest replaced by `…`. @defaultValue 120 */
  maxValueLength?: number;
}

/** The changes from `before` to `after` (in path order), and how many more were left out. */
export function diffConfig(before: unknown, after: unknown, options: ConfigDiffOptions = {}): { changes: ConfigChange[]; omitted: number } {
  const maxChanges = options.maxChanges ?? 50;
  const maxLength = options.maxValueLength ?? 120;
  const all: ConfigChange[] = [];
  const show = (v: unknown): Scalar => (typeof v === 'string' && v.length > maxLength ? `${v.slice(0, maxLength)}…` : (v as Scalar));

  const walk = (a: unknown, b: unknown, path: string): void => {
    if (isContainer(a) && isContainer(b) && Array.isArray(a) === Array.isArray(b)) {
      const keys = Array.isArray(a) ? indexes(a, b as unknown[]) : [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) {
        const child = Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
        const inA = Object.hasOwn(a, key);
        const inB = Object.hasOwn(b, key);
        const va = (a as Record<string, unknown>)[key];
        const vb = (b as Record<string, unknown>)[key];
        if (inA && inB) walk(va, vb, child);
        else if (inB) all.push({ path: child, change: 'added', ...(isContainer(vb) ? {} : { to: show(vb) }) });
        else all.push({ path: child, change: 'removed', ...(isContainer(va) ? {} : { from: show(va) }) });
      }
      return;
    }
    if (Object.is(a, b)) return;
    // A scalar, or a change of kind (object to array, object to scalar): named, scalars shown.
    all.push({ path, change: 'changed', ...(isContainer(a) ? {} : { from: show(a) }), ...(isContainer(b) ? {} : { to: show(b) }) });
  };
  walk(before, after, '');
  return { changes: all.slice(0, maxChanges), omitted: Math.max(0, all.length - maxChanges) };
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

function indexes(a: unknown[], b: unknown[]): string[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => String(i));
}
