// Aligned text tables like kubectl's and linkerd's: upper-case headers, columns three spaces apart,
// numbers right-aligned where asked, colour only when the caller says the output is a terminal.

export type Align = 'left' | 'right';
export type Colour = 'red' | 'green' | 'yellow' | 'dim' | 'bold';

const SGR: Readonly<Record<Colour, string>> = { red: '31', green: '32', yellow: '33', dim: '2', bold: '1' };

export interface Column<R> {
  readonly header: string;
  readonly value: (row: R) => string;
  readonly align?: Align;
  /** A colour for a cell, applied only with `colour: true`; widths never count escape codes. */
  readonly colour?: (row: R) => Colour | undefined;
}

export interface TableOptions {
  /** True only when writing to a terminal (see io.useColour). */
  readonly colour?: boolean;
  /** Spaces between columns; kubectl uses 3. */
  readonly gap?: number;
}

/** The table as lines ending in `\n`; no trailing spaces. Headers print even with no rows. */
export function renderTable<R>(columns: readonly Column<R>[], rows: readonly R[], options: TableOptions = {}): string {
  const gap = ' '.repeat(options.gap ?? 3);
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(width(column.header), ...cells.map((line) => width(line[i] ?? ''))));
  const format = (texts: readonly string[], colours: readonly (Colour | undefined)[]) =>
    texts
      .map((text, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - width(text));
        const last = i === texts.length - 1;
        const painted = paint(text, options.colour ? colours[i] : undefined);
        return columns[i]?.align === 'right' ? pad + painted : last ? painted : painted + pad;
      })
      .join(gap)
      .trimEnd() + '\n';
  const header = format(columns.map((column) => column.header.toUpperCase()), []);
  return header + cells.map((line, r) => format(line, columns.map((column) => column.colour?.(rows[r] as R)))).join('');
}

export function paint(text: string, colour: Colour | undefined): string {
  return colour ? `\x1b[${SGR[colour]}m${text}\x1b[0m` : text;
}

/** Display width in code points, so `√` and `‼` count as one column. */
function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
