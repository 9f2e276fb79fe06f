/** Plain-text building blocks for reports read in a terminal: fixed-width tables and wrapped paragraphs. */

/** How a column's cells line up. */
export type Align = 'left' | 'right';

/**
 * A fixed-width table: the header, a rule of dashes, then the rows, columns two spaces apart.
 * The first column is left-aligned and the others right-aligned unless `align` says otherwise.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const side = (i: number): Align => align[i] ?? (i === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => (side(i) === 'left' ? (cells[i] ?? '').padEnd(w) : (cells[i] ?? '').padStart(w)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `text` broken on spaces into lines of at most `width` characters (a longer word keeps its own line). @defaultValue width 100 */
export function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines.join('\n');
}

/** A section title underlined with `=`. */
export function heading(title: string): string {
  return `${title}\n${'='.repeat(title.length)}`;
}
