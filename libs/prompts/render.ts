/**
 * Fills `{{path}}` placeholders from a job's input. Dotted paths reach into objects; arrays are
 * joined with ", "; objects become compact JSON; a missing value renders as "not given" so the
 * model is told the user left it out rather than seeing an empty line.
 */
export function renderTemplate(template: string, input: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => formatValue(lookup(input, path)));
}

function lookup(input: Record<string, unknown>, path: string): unknown {
  let value: unknown = input;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function formatValue(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'not given';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
