// Service DNAT rules: even spreading over endpoints, hairpin SNAT, nothing for services without endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceRules } from './service-rules.js';

test('each endpoint gets 1/n of new connections, and endpoints are SNATed when they reach themselves', () => {
  const rules = serviceRules('fte1', '198.18.1.1', [
    {
      namespace: 'demo',
      name: 'web',
      clusterIP: '198.19.1.10',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', endpoints: [{ ip: '198.18.1.12', port: 8080 }, { ip: '198.18.1.3', port: 8080 }, { ip: '198.18.1.4', port: 8080 }] },
        { name: 'dns', port: 53, protocol: 'UDP', endpoints: [{ ip: '198.18.1.3', port: 5353 }] },
        { name: 'none', port: 81, protocol: 'TCP', endpoints: [] },
      ],
    },
  ]);
  assert.equal(
    rules,
    [
      '*nat',
      ':FATHOM-SVC-fte1 - [0:0]',
      ':FATHOM-POST-fte1 - [0:0]',
      '-A FATHOM-SVC-fte1 -d 198.19.1.10/32 -p tcp -m tcp --dport 80 -m comment --comment "demo/web:http" -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 198.18.1.3:8080',
      '-A FATHOM-SVC-fte1 -d 198.19.1.10/32 -p tcp -m tcp --dport 80 -m comment --comment "demo/web:http" -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 198.18.1.4:8080',
      '-A FATHOM-SVC-fte1 -d 198.19.1.10/32 -p tcp -m tcp --dport 80 -m comment --comment "demo/web:http" -j DNAT --to-destination 198.18.1.12:8080',
      '-A FATHOM-SVC-fte1 -d 198.19.1.10/32 -p udp -m udp --dport 53 -m comment --comment "demo/web:dns" -j DNAT --to-destination 198.18.1.3:5353',
      '-A FATHOM-POST-fte1 -s 198.18.1.3/32 -d 198.18.1.3/32 -m comment --comment "fathom/fte1/hairpin" -j SNAT --to-source 198.18.1.1',
      '-A FATHOM-POST-fte1 -s 198.18.1.4/32 -d 198.18.1.4/32 -m comment --comment "fathom/fte1/hairpin" -j SNAT --to-source 198.18.1.1',
      '-A FATHOM-POST-fte1 -s 198.18.1.12/32 -d 198.18.1.12/32 -m comment --comment "fathom/fte1/hairpin" -j SNAT --to-source 198.18.1.1',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test('headless services and services without endpoints produce no DNAT rule', () => {
  const rules = serviceRules('x', '198.18.0.1', [
    { namespace: 'a', name: 'headless', clusterIP: 'None', ports: [{ name: '', port: 80, protocol: 'TCP', endpoints: [{ ip: '198.18.0.2', port: 80 }] }] },
    { namespace: 'a', name: 'empty', clusterIP: '198.19.0.10', ports: [{ name: '', port: 80, protocol: 'TCP', endpoints: [] }] },
  ]);
  assert.doesNotMatch(rules, /DNAT|SNAT/);
});
