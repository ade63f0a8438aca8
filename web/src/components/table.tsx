// A sortable table: click a header to sort by it, again to reverse. Rows keep their order between polls
// unless the sort key changes, so a refreshing table does not jump under the reader's eye.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface Column<T> {
  readonly key: string;
  readonly header: string;
  readonly cell: (row: T) => ComponentChildren;
  /** What sorting compares; without it the column does not sort. */
  readonly sort?: (row: T) => number | string | null;
  readonly numeric?: boolean;
  readonly className?: (row: T) => string;
  readonly title?: string;
}

export function Table<T>(props: {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  empty: string;
  initialSort?: string;
  /** Sort the initial column in descending order (busiest first). */
  initialDesc?: boolean;
  testId?: string;
}) {
  const [sort, setSort] = useState<{ key: string; desc: boolean }>({ key: props.initialSort ?? props.columns[0]!.key, desc: props.initialDesc ?? false });
  const col = props.columns.find((c) => c.key === sort.key);
  const rows = col?.sort ? [...props.rows].sort((a, b) => compare(col.sort!(a), col.sort!(b)) * (sort.desc ? -1 : 1)) : props.rows;
  return (
    <table class="data" data-testid={props.testId}>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th
              key={c.key}
              class={`${c.numeric ? 'num' : ''} ${c.sort ? 'sortable' : ''} ${c.sort && sort.key === c.key ? (sort.desc ? 'desc' : 'asc') : ''}`}
              title={c.title}
              onClick={c.sort ? () => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : false })) : undefined}
              aria-sort={c.sort && sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : undefined}
            >
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td class="empty" colSpan={props.columns.length}>
              {props.empty}
            </td>
          </tr>
        ) : (
          rows.map((r) => (
            <tr key={props.rowKey(r)} data-row={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.key} data-col={c.key} class={`${c.numeric ? 'num' : ''} ${c.className?.(r) ?? ''}`}>
                  {c.cell(r)}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

/** Missing figures come first ascending and last descending. */
function compare(a: number | string | null, b: number | string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}
