// edges: the queries, and rows with SECURED and both identities from canned answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgeRows, edgesQueries } from './edges.js';

test('outbound open connections by both ends and TLS; inbound by client identity', () => {
  const q = edgesQueries({ kind: 'deployment', namespace: 'nodevoto', allNamespaces: false });
  assert.equal(
    q.outbound,
    'sum(tcp_open_connections{deployment!="", direction="outbound", dst_deployment!="", namespace="nodevoto", peer="dst"}) by (namespace, deployment, dst_namespace, dst_deployment, serviceaccount, server_id, tls, no_tls_reason)',
  );
  assert.equal(q.inbound, 'sum(tcp_open_connections{deployment!="", direction="inbound", peer="src", tls="true"}) by (namespace, deployment, client_id)');
  assert.match(edgesQueries({ kind: 'pod', namespace: 'x', allNamespaces: true }).outbound, /^sum\(tcp_open_connections\{direction="outbound", dst_pod!="", peer="dst", pod!=""\}\) by \(namespace, pod, dst_namespace, dst_pod,/);
});

const id = (sa: string, ns: string) => `${sa}.${ns}.serviceaccount.identity.fathom.cluster.local`;
const s = (labels: Record<string, string>, value: number) => ({ labels, value });

test('rows: √ with both identities for mTLS, the reason otherwise, closed edges left out', () => {
  const outbound = [
    s({ namespace: 'nodevoto', deployment: 'web', dst_namespace: 'nodevoto', dst_deployment: 'voting', serviceaccount: 'web', server_id: id('voting', 'nodevoto'), tls: 'true' }, 2),
    s({ namespace: 'nodevoto', deployment: 'vote-bot', dst_namespace: 'nodevoto', dst_deployment: 'web', tls: 'no_identity', no_tls_reason: 'not_provided_by_service_discovery' }, 1),
    s({ namespace: 'nodevoto', deployment: 'web', dst_namespace: 'nodevoto', dst_deployment: 'emoji', tls: 'true', server_id: id('emoji', 'nodevoto') }, 0),
  ];
  const inbound = [
    s({ namespace: 'nodevoto', deployment: 'voting', client_id: id('web', 'nodevoto') }, 2),
    s({ namespace: 'nodevoto', deployment: 'voting', client_id: id('vote-bot', 'nodevoto') }, 1),
  ];
  const rows = edgeRows({ kind: 'deployment', namespace: 'nodevoto', allNamespaces: false }, outbound, inbound);
  assert.deepEqual(rows, [
    {
      kind: 'deployment', src: 'vote-bot', src_namespace: 'nodevoto', dst: 'web', dst_namespace: 'nodevoto',
      secured: false, no_tls_reason: 'not_provided_by_service_discovery', client_id: null, server_id: null, tcp_open_connections: 1,
    },
    {
      kind: 'deployment', src: 'web', src_namespace: 'nodevoto', dst: 'voting', dst_namespace: 'nodevoto',
      secured: true, no_tls_reason: null, client_id: id('web', 'nodevoto'), server_id: id('voting', 'nodevoto'), tcp_open_connections: 2,
    },
  ]);
});
