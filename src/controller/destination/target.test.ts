import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextNamespace, parseTarget, type Target } from './target.js';

test('parseTarget resolves service names as cluster DNS does', () => {
  const cases: Array<[string, string | undefined, Target]> = [
    ['web:80', 'nodevoto', { kind: 'service', namespace: 'nodevoto', name: 'web', port: 80 }],
    ['web:80', undefined, { kind: 'service', namespace: 'default', name: 'web', port: 80 }],
    ['web.nodevoto:80', 'other', { kind: 'service', namespace: 'nodevoto', name: 'web', port: 80 }],
    ['web.nodevoto.svc:80', undefined, { kind: 'service', namespace: 'nodevoto', name: 'web', port: 80 }],
    ['web.nodevoto.svc.cluster.local:80', undefined, { kind: 'service', namespace: 'nodevoto', name: 'web', port: 80 }],
    ['Web.Nodevoto.svc.cluster.local.:8080', undefined, { kind: 'service', namespace: 'nodevoto', name: 'web', port: 8080 }],
    ['198.19.0.10:80', undefined, { kind: 'ip', ip: '198.19.0.10', port: 80 }],
    ['[fd00::1]:443', undefined, { kind: 'ip', ip: 'fd00::1', port: 443 }],
    ['pod-0.web.nodevoto.svc.cluster.local:80', undefined, { kind: 'external', host: 'pod-0.web.nodevoto.svc.cluster.local', port: 80 }],
    ['example.org.internal:443', undefined, { kind: 'external', host: 'example.org.internal', port: 443 }],
  ];
  for (const [path, ns, want] of cases) assert.deepEqual(parseTarget(path, 'cluster.local', ns), want, path);
});

test('parseTarget names the problem with a bad path', () => {
  const cases: Array<[string, RegExp]> = [
    ['web', /expected host:port/],
    [':80', /expected host:port/],
    ['web:0', /"0" is not a port number/],
    ['web:http', /"http" is not a port number/],
    ['web:70000', /"70000" is not a port number/],
    ['we b:80', /"we b" is not a DNS name/],
    ['[nope]:80', /"nope" is not an IPv6 address/],
  ];
  for (const [path, message] of cases) {
    const got = parseTarget(path, 'cluster.local', undefined);
    assert.equal(typeof got, 'string', path);
    assert.match(got as string, message, path);
    assert.match(got as string, new RegExp(`^path "${path.replace(/[[\]]/g, '\\$&')}"`));
  }
});

test('contextNamespace reads {"ns": ...} and ignores anything else', () => {
  assert.equal(contextNamespace('{"ns":"nodevoto","nodeName":"n1"}'), 'nodevoto');
  assert.equal(contextNamespace(''), undefined);
  assert.equal(contextNamespace('not json'), undefined);
  assert.equal(contextNamespace('{"ns":3}'), undefined);
  assert.equal(contextNamespace('null'), undefined);
});
