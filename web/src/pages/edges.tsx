// `/edges`: who talks to whom, as a graph (callers on the left, callees to their right) and a table;
// an edge is green and locked when its connections are mutual TLS, with the identities on both ends.
import type { EdgeRow, EdgesResponse } from '../../../src/controller/metrics-api/types.js';
import { usePoll } from '../api.js';
import { Section } from '../components/status.js';
import { Table } from '../components/table.js';
import { routePath } from '../router.js';
import { REFRESH_MS } from './overview.js';

export function EdgesPage() {
  const edges = usePoll<EdgesResponse>('edges', { resource: 'deploy', 'all-namespaces': true }, REFRESH_MS);
  const rows = edges.data?.rows ?? [];
  const link = (ns: string, name: string) => <a href={routePath({ page: 'resource', kind: 'deployment', namespace: ns, name })}>{name}</a>;
  return (
    <>
      <h1>Edges</h1>
      <Section title="Graph" polled={edges}>
        {rows.length > 0 ? <Graph rows={rows} /> : <p class="empty">No open connections between meshed deployments.</p>}
      </Section>
      <Section title="Connections">
        <Table<EdgeRow>
          testId="edges"
          columns={[
            { key: 'src_ns', header: 'Src namespace', cell: (r) => r.src_namespace, sort: (r) => r.src_namespace },
            { key: 'src', header: 'Src', cell: (r) => link(r.src_namespace, r.src), sort: (r) => r.src },
            { key: 'dst_ns', header: 'Dst namespace', cell: (r) => r.dst_namespace, sort: (r) => r.dst_namespace },
            { key: 'dst', header: 'Dst', cell: (r) => link(r.dst_namespace, r.dst), sort: (r) => r.dst },
            { key: 'secured', header: 'Secured', cell: (r) => (r.secured ? <span class="badge secured">secured</span> : <span class="badge plain">no: {r.no_tls_reason ?? 'unknown'}</span>), sort: (r) => String(r.secured) },
            { key: 'client', header: 'Client identity', cell: (r) => <code>{r.client_id ?? '-'}</code> },
            { key: 'server', header: 'Server identity', cell: (r) => <code>{r.server_id ?? '-'}</code> },
            { key: 'conns', header: 'Connections', numeric: true, cell: (r) => Math.round(r.tcp_open_connections), sort: (r) => r.tcp_open_connections },
          ]}
          rows={rows}
          rowKey={(r) => `${r.src_namespace}/${r.src}>${r.dst_namespace}/${r.dst}`}
          empty="no edges"
        />
      </Section>
    </>
  );
}

const COL = 220;
const ROW = 70;

/** Deployments in columns by their depth in the call graph (a caller left of what it calls). */
function Graph(props: { rows: readonly EdgeRow[] }) {
  const id = (ns: string, name: string) => `${ns}/${name}`;
  const nodes = new Set<string>();
  const out = new Map<string, string[]>();
  for (const r of props.rows) {
    const a = id(r.src_namespace, r.src);
    const b = id(r.dst_namespace, r.dst);
    nodes.add(a).add(b);
    out.set(a, [...(out.get(a) ?? []), b]);
  }
  // Longest path from any node with no callers; cycles stop at the node count.
  const depth = new Map<string, number>([...nodes].map((n) => [n, 0]));
  for (let pass = 0; pass < nodes.size; pass++) {
    let changed = false;
    for (const [a, bs] of out) for (const b of bs) if (depth.get(b)! < depth.get(a)! + 1 && depth.get(a)! + 1 < nodes.size) {
      depth.set(b, depth.get(a)! + 1);
      changed = true;
    }
    if (!changed) break;
  }
  const columns = new Map<number, string[]>();
  for (const n of [...nodes].sort()) columns.set(depth.get(n)!, [...(columns.get(depth.get(n)!) ?? []), n]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, ns] of columns) ns.forEach((n, i) => pos.set(n, { x: 20 + d * COL, y: 30 + i * ROW }));
  const width = 20 + Math.max(...columns.keys()) * COL + 180;
  const height = 30 + Math.max(...[...columns.values()].map((c) => c.length)) * ROW;
  return (
    <svg class="graph" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label="call graph" data-testid="edge-graph">
      <defs>
        <marker id="arrow-ok" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="#7fdbca" />
        </marker>
        <marker id="arrow-plain" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="#f78c6c" />
        </marker>
      </defs>
      {props.rows.map((r) => {
        const a = pos.get(id(r.src_namespace, r.src))!;
        const b = pos.get(id(r.dst_namespace, r.dst))!;
        return (
          <g key={`${id(r.src_namespace, r.src)}>${id(r.dst_namespace, r.dst)}`} class={r.secured ? 'edge secured' : 'edge plain'}>
            <line x1={a.x + 150} y1={a.y + 16} x2={b.x - 4} y2={b.y + 16} marker-end={r.secured ? 'url(#arrow-ok)' : 'url(#arrow-plain)'} />
            <text x={(a.x + 150 + b.x) / 2} y={(a.y + b.y) / 2 + 10} text-anchor="middle">{r.secured ? 'mTLS' : 'plaintext'}</text>
          </g>
        );
      })}
      {[...pos].map(([n, p]) => {
        const [ns, name] = n.split('/') as [string, string];
        return (
          <a key={n} href={routePath({ page: 'resource', kind: 'deployment', namespace: ns, name })}>
            <g class="node">
              <rect x={p.x} y={p.y} width={150} height={32} rx={6} />
              <text x={p.x + 10} y={p.y + 20}>{name}</text>
              <text x={p.x + 145} y={p.y + 20} text-anchor="end" class="ns">{ns}</text>
            </g>
          </a>
        );
      })}
    </svg>
  );
}
