// What meshing adds to a pod: the proxy's environment in controller and standalone mode, init and proxy containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROXY_NODE_FLAGS } from '../../lib/mesh-names.js';
import { makeConfig } from './config.js';
import { initContainer, proxyContainer, proxyEnv } from './mesh.js';

const pod = {
  namespace: 'demo',
  name: 'web-abc-12345',
  serviceAccount: 'web',
  annotations: { 'fathom.io/inject': 'enabled', 'config.fathom.io/opaque-ports': 'redis,4000-4001', 'config.fathom.io/proxy-log-level': 'debug', 'config.fathom.io/skip-outbound-ports': '25' },
  containers: [{ name: 'web', ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' as const }] }],
};

test('controller mode: the proxy learns where the controller is and who it is', () => {
  const config = makeConfig({ stateDir: '/var/lib/fathom' });
  assert.deepEqual(proxyEnv(config, pod, '/t/token'), {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: 'web-abc-12345',
    FATHOM_PROXY_CONTROLLER_ADDR: '198.18.0.1:8086',
    FATHOM_PROXY_CONTROLLER_IDENTITY: 'controller.fathom.serviceaccount.identity.fathom.cluster.local',
    FATHOM_PROXY_IDENTITY_NAME: 'web.demo.serviceaccount.identity.fathom.cluster.local',
    FATHOM_PROXY_IDENTITY_TOKEN_FILE: '/t/token',
    FATHOM_PROXY_TRUST_ANCHORS_FILE: '/var/lib/fathom/trust-anchors.pem',
    FATHOM_PROXY_DESTINATION_CONTEXT: '{"ns":"demo","pod":"web-abc-12345"}',
    FATHOM_PROXY_DISCOVERY_NETWORKS: '198.18.0.0/16,198.19.0.0/16',
    FATHOM_PROXY_LOG_LEVEL: 'debug',
    FATHOM_PROXY_OPAQUE_PORTS: '4000,4001,6379',
  });
});

test('standalone mode (the development switch) leaves the controller out', () => {
  const env = proxyEnv(makeConfig({ proxyStandalone: true }), pod, '/t/token');
  assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('FATHOM_PROXY_')), ['FATHOM_PROXY_LOG_LEVEL', 'FATHOM_PROXY_OPAQUE_PORTS']);
});

test('the init step carries the skip annotations; the proxy runs as 2102 and is ready on /ready', () => {
  const config = makeConfig({});
  assert.deepEqual(initContainer(config, pod, '/usr/bin/node').args, ['init', '--skip-outbound-ports', '25']);
  const proxy = proxyContainer(config, pod, '/t/token', '/usr/bin/node');
  assert.equal(proxy.name, 'fathom-proxy');
  assert.deepEqual(proxy.command, ['/usr/bin/node', ...PROXY_NODE_FLAGS, `${config.installDir}/bin/fathom-proxy`]);
  assert.deepEqual(proxy.securityContext, { runAsUser: 2102, runAsGroup: 2102 });
  assert.deepEqual(proxy.readinessProbe?.httpGet, { path: '/ready', port: 4191 });
});
