// A pod's hosts file: every service under its DNS names, bare names only in the pod's namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHosts } from './pod-network.js';

test("a pod's hosts file names every service, and short names only in its own namespace", () => {
  const hosts = renderHosts({ namespace: 'demo', name: 'web-1', ip: '198.18.0.5' }, [
    { namespace: 'other', name: 'db', clusterIP: '198.19.0.11' },
    { namespace: 'demo', name: 'api', clusterIP: '198.19.0.10' },
  ], 'cluster.local');
  assert.equal(
    hosts,
    [
      '# Managed by fathom: this pod and the services of the cluster.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      '198.18.0.5\tweb-1',
      '198.19.0.10\tapi api.demo api.demo.svc api.demo.svc.cluster.local',
      '198.19.0.11\tdb.other db.other.svc db.other.svc.cluster.local',
      '',
    ].join('\n'),
  );
});
