// Applied objects: Kubernetes defaults filled in, and every refusal naming the object and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateObject } from './validate.js';

const deployment = (spec: object) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec });
const goodSpec = {
  selector: { matchLabels: { app: 'web' } },
  template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', command: ['./server'], ports: [{ containerPort: 8080 }] }] } },
};

test('defaults are filled in as the API server would', () => {
  const result = validateObject(deployment(goodSpec), 'demo');
  assert.ok('object' in result);
  const d = result.object;
  assert.equal(d.metadata.namespace, 'demo');
  assert.ok(d.kind === 'Deployment');
  if (d.kind !== 'Deployment') return;
  assert.equal(d.spec.replicas, 1);
  assert.equal(d.spec.template.spec.serviceAccountName, 'default');
  assert.equal(d.spec.template.spec.containers[0]!.ports![0]!.protocol, 'TCP');
});

test('every problem names the object and the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ kind: 'ConfigMap', metadata: { name: 'x' } }, /ConfigMap "x": kind "ConfigMap" is not supported by the local platform/],
    [deployment({ ...goodSpec, replicas: -1 }), /Deployment "web": spec\.replicas: expected a whole number/],
    [deployment({ ...goodSpec, selector: { matchLabels: { app: 'other' } } }), /spec\.template\.metadata\.labels: `selector` does not match template `labels`/],
    [deployment({ ...goodSpec, template: { ...goodSpec.template, spec: { containers: [{ name: 'web', image: 'nginx' }] } } }), /containers\[0\]\.command: is required: the local platform runs processes, not images/],
    [deployment({ ...goodSpec, template: { ...goodSpec.template, spec: { hostNetwork: true, containers: goodSpec.template.spec.containers } } }), /hostNetwork: is not supported/],
    [deployment({ ...goodSpec, template: { ...goodSpec.template, spec: { containers: [{ name: 'w', command: ['x'], securityContext: { runAsUser: 2102 } }] } } }), /uid 2102 is the proxy's/],
    [{ kind: 'Service', metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }, /spec\.type: "LoadBalancer" is not supported/],
    [{ kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }, { port: 81 }] } }, /spec\.ports\[0\]\.name: is required when a service has several ports/],
    [{ kind: 'Service', metadata: { name: 'Web_1' }, spec: { ports: [{ port: 80 }] } }, /metadata\.name: name "Web_1" is not a DNS-1123 label/],
  ];
  for (const [raw, message] of cases) {
    const result = validateObject(raw, 'default');
    assert.ok('errors' in result, `accepted: ${JSON.stringify(raw)}`);
    assert.match(result.errors.join('\n'), message);
  }
});
