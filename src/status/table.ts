/**
 * Aligned text columns for the status view. Cells may carry ANSI colour:
 * widths are measured on the visible text.
 */

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

export interface TableOptions {
  /** Spaces before every line. */
  indent?: number;
  /** Spaces between columns. */
  gap?: number;
  /** Styles the header line (its text is padded first, so colour does not shift columns). */
  header?: (text: string) => string;
}

// SGR sequences only: that is all chalk writes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC that starts an ANSI sequence
const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Columns a string takes on a terminal: ANSI sequences take none, each code point one. */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/**
 * Lines of a table: a header, then one line per row, each column as wide as
 * its widest cell. Rows shorter than the columns are padded with empty cells;
 * trailing spaces are trimmed.
 */
export function renderTable(columns: Column[], rows: string[][], options: TableOptions = {}): string[] {
  const indent = ' '.repeat(options.indent ?? 0);
  const gap = ' '.repeat(options.gap ?? 2);
  const widths = columns.map((c, i) =>
    Math.max(visibleWidth(c.header), ...rows.map((r) => visibleWidth(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    indent +
    columns
      .map((c, i) => pad(cells[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
      .join(gap)
      .replace(/\s+$/, '');
  const header = line(columns.map((c) => c.header));
  return [options.header ? options.header(header) : header, ...rows.map(line)];
}
