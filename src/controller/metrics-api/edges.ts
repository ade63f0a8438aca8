// `edges`: which resources hold connections open to which, and whether those connections are mutual TLS
// with which identities. Each edge is an outbound series of tcp_open_connections (source labels from
// Prometheus's target, destination from the proxy's dst_* labels, server_id from the verified peer); the
// client's identity is the client_id that the destination's proxies see inbound from the source.
import { FathomError } from '../../lib/errors.js';
import type { PromQuerier, Sample } from './prometheus.js';
import { eq, tcpConnectionsQuery, type Matcher } from './promql.js';
import { dstLabel, kindLabel } from './resources.js';
import type { EdgeRow, EdgesResponse } from './types.js';

export interface EdgesRequest {
  readonly kind: 'deployment' | 'pod';
  /** Edges whose source is in this namespace; ignored with allNamespaces. */
  readonly namespace: string;
  readonly allNamespaces: boolean;
}

const present = (name: string): Matcher => ({ name, op: '!=', value: '' });

export function edgesQueries(req: EdgesRequest): { outbound: string; inbound: string } {
  const src = kindLabel(req.kind);
  const dst = dstLabel(req.kind);
  const scope = req.allNamespaces ? [] : [eq('namespace', req.namespace)];
  return {
    outbound: tcpConnectionsQuery(
      [eq('direction', 'outbound'), eq('peer', 'dst'), ...scope, present(src), present(dst)],
      ['namespace', src, 'dst_namespace', dst, 'serviceaccount', 'server_id', 'tls', 'no_tls_reason'],
    ),
    inbound: tcpConnectionsQuery([eq('direction', 'inbound'), eq('peer', 'src'), eq('tls', 'true'), present(src)], ['namespace', src, 'client_id']),
  };
}

/** `sa.ns.serviceaccount.identity...` → its service account and namespace. */
function identityParts(id: string): { serviceAccount: string; namespace: string } | undefined {
  const [serviceAccount, namespace, kind] = id.split('.');
  return serviceAccount && namespace && kind === 'serviceaccount' ? { serviceAccount, namespace } : undefined;
}

/**
 * The client identity of an edge: among the identities the destination sees connecting, the one of the
 * source's service account (Prometheus's `serviceaccount` target label) in the source's namespace, or the
 * only one from that namespace. Undefined when it cannot be told apart.
 */
function clientIdOf(candidates: readonly string[], srcNamespace: string, serviceAccount: string | undefined): string | undefined {
  const fromNs = candidates.filter((id) => identityParts(id)?.namespace === srcNamespace);
  const exact = serviceAccount ? fromNs.filter((id) => identityParts(id)?.serviceAccount === serviceAccount) : [];
  if (exact.length === 1) return exact[0];
  return fromNs.length === 1 ? fromNs[0] : undefined;
}

/** Rows for edges with connections open now, sorted by source then destination. */
export function edgeRows(req: EdgesRequest, outbound: readonly Sample[], inbound: readonly Sample[]): EdgeRow[] {
  const src = kindLabel(req.kind);
  const dst = dstLabel(req.kind);
  const clients = new Map<string, string[]>();
  for (const s of inbound) {
    const id = s.labels['client_id'];
    if (!id || !(s.value > 0)) continue;
    const k = `${s.labels['namespace']}/${s.labels[src]}`;
    const list = clients.get(k) ?? [];
    if (!list.includes(id)) list.push(id);
    clients.set(k, list);
  }
  const rows: EdgeRow[] = [];
  for (const s of outbound) {
    if (!(s.value > 0)) continue;
    const l = s.labels;
    const secured = l['tls'] === 'true';
    const srcNamespace = l['namespace'] ?? '';
    const dstNamespace = l['dst_namespace'] ?? '';
    const candidates = clients.get(`${dstNamespace}/${l[dst]}`) ?? [];
    rows.push({
      kind: req.kind,
      src: l[src] ?? '',
      src_namespace: srcNamespace,
      dst: l[dst] ?? '',
      dst_namespace: dstNamespace,
      secured,
      // Without a reason label, the tls label itself says why (`disabled` in standalone mode).
      no_tls_reason: secured ? null : (l['no_tls_reason'] || l['tls'] || 'unknown'),
      client_id: secured ? (clientIdOf(candidates, srcNamespace, l['serviceaccount']) ?? null) : null,
      server_id: l['server_id'] || null,
      tcp_open_connections: s.value,
    });
  }
  return rows.sort(
    (a, b) =>
      a.src_namespace.localeCompare(b.src_namespace) ||
      a.src.localeCompare(b.src) ||
      a.dst_namespace.localeCompare(b.dst_namespace) ||
      a.dst.localeCompare(b.dst),
  );
}

export async function edges(req: EdgesRequest, prometheus: PromQuerier, now: number): Promise<EdgesResponse> {
  if (req.kind !== 'deployment' && req.kind !== 'pod') throw new FathomError('EBADREQUEST', `edges takes deploy or pod (got ${String(req.kind)})`);
  const q = edgesQueries(req);
  const [outbound, inbound] = await Promise.all([prometheus.query(q.outbound, now), prometheus.query(q.inbound, now)]);
  return { rows: edgeRows(req, outbound, inbound), queries: [q.outbound, q.inbound] };
}
