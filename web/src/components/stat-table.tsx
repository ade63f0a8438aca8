// The golden-metrics table of stat rows (MESHED, SUCCESS, RPS, P50/P95/P99, TCP), as `fathom stat` has
// it, with names linking to their pages and a failing success rate in colour.
import type { StatRow } from '../../../src/controller/metrics-api/types.js';
import { count, ms, pct, rps, successClass } from '../format.js';
import { routePath } from '../router.js';
import { Table, type Column } from './table.js';

export function statColumns(opts: { namespaceColumn?: boolean; link?: boolean } = {}): Column<StatRow>[] {
  const cols: Column<StatRow>[] = [];
  if (opts.namespaceColumn) {
    cols.push({ key: 'namespace', header: 'Namespace', cell: (r) => <a href={routePath({ page: 'overview', namespace: r.namespace })}>{r.namespace}</a>, sort: (r) => r.namespace });
  }
  cols.push(
    {
      key: 'name',
      header: 'Name',
      cell: (r) =>
        opts.link !== false && (r.kind === 'deployment' || r.kind === 'pod') ? (
          <a href={routePath({ page: 'resource', kind: r.kind, namespace: r.namespace, name: r.name })}>{r.name}</a>
        ) : (
          r.name
        ),
      sort: (r) => r.name,
    },
    { key: 'meshed', header: 'Meshed', numeric: true, cell: (r) => (r.meshed === null ? '-' : `${r.meshed}/${r.running}`), sort: (r) => r.meshed, className: (r) => (r.meshed !== null && r.running !== null && r.meshed < r.running ? 'warn' : '') },
    { key: 'success', header: 'Success', numeric: true, cell: (r) => pct(r.success), sort: (r) => r.success, className: (r) => successClass(r.success), title: 'successful responses over all responses' },
    { key: 'rps', header: 'RPS', numeric: true, cell: (r) => rps(r.rps), sort: (r) => r.rps },
    { key: 'p50', header: 'P50', numeric: true, cell: (r) => ms(r.latency_ms_p50), sort: (r) => r.latency_ms_p50, title: 'median latency' },
    { key: 'p95', header: 'P95', numeric: true, cell: (r) => ms(r.latency_ms_p95), sort: (r) => r.latency_ms_p95 },
    { key: 'p99', header: 'P99', numeric: true, cell: (r) => ms(r.latency_ms_p99), sort: (r) => r.latency_ms_p99 },
    { key: 'tcp', header: 'TCP', numeric: true, cell: (r) => count(r.tcp_open_connections), sort: (r) => r.tcp_open_connections, title: 'open TCP connections' },
  );
  return cols;
}

export function StatTable(props: { rows: readonly StatRow[]; empty: string; namespaceColumn?: boolean; testId: string }) {
  return (
    <Table
      columns={statColumns({ namespaceColumn: props.namespaceColumn ?? false })}
      rows={props.rows}
      rowKey={(r) => `${r.namespace}/${r.name}`}
      empty={props.empty}
      testId={props.testId}
    />
  );
}
