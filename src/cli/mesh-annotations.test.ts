// The mesh annotations: flag value validation, which keys uninject removes, edits of odd templates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument, type YAMLMap } from 'yaml';
import { injectWorkload, isMeshAnnotation, proxyConfigError, uninjectWorkload } from './mesh-annotations.js';
import { workloadOf } from './workloads.js';

test('proxy config values are checked like the proxy and platform read them', () => {
  const cases: [Parameters<typeof proxyConfigError>[0], string, string | undefined][] = [
    ['proxyLogLevel', 'debug', undefined],
    ['proxyLogLevel', 'warn,fathom=info', '"warn,fathom=info" is not one of error, warn, info, debug, trace'],
    ['opaquePorts', '25,587,3306,4000-4010', undefined],
    ['opaquePorts', 'mysql,6379', undefined],
    ['skipInboundPorts', 'mysql', '"mysql" is not a port (1-65535), a range such as 4000-4010'],
    ['skipOutboundPorts', '0', '"0" is not a port (1-65535) or an ordered range of ports'],
    ['skipOutboundPorts', '10-5', '"10-5" is not a port (1-65535) or an ordered range of ports'],
    ['skipOutboundPorts', '65536', '"65536" is not a port (1-65535) or an ordered range of ports'],
    ['opaquePorts', ' , ', 'is empty; expected ports such as 25,4000-4010'],
  ];
  for (const [field, value, expected] of cases) assert.equal(proxyConfigError(field, value), expected, `${field}=${value}`);
});

test('uninject removes fathom.io and *.fathom.io annotations only', () => {
  assert.equal(isMeshAnnotation('fathom.io/inject'), true);
  assert.equal(isMeshAnnotation('config.fathom.io/opaque-ports'), true);
  assert.equal(isMeshAnnotation('linkerd.io/inject'), false);
  assert.equal(isMeshAnnotation('notfathom.io/x'), false);
  assert.equal(isMeshAnnotation('prometheus.io/scrape'), false);
});

function edit(text: string, action: 'inject' | 'uninject') {
  const doc = parseDocument(text, { version: '1.1' });
  const workload = workloadOf(doc.contents as YAMLMap);
  assert.ok(workload);
  const outcome = action === 'inject' ? injectWorkload(doc, workload, {}) : uninjectWorkload(workload);
  return { outcome, text: doc.toString({ indentSeq: false }) };
}

test('inject creates metadata after apiVersion and kind, and fills a null annotations key', () => {
  assert.equal(edit('apiVersion: v1\nkind: Pod\nspec: {}\n', 'inject').text, 'apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    fathom.io/inject: enabled\nspec: {}\n');
  assert.equal(edit('kind: Pod\nmetadata:\n  annotations:\n', 'inject').text, 'kind: Pod\nmetadata:\n  annotations:\n    fathom.io/inject: enabled\n');
});

test('malformed templates are skipped with a reason, not crashed on', () => {
  const cases: [string, string][] = [
    ['kind: Deployment\nspec: {}\n', 'no pod template at spec.template'],
    ['kind: CronJob\nspec: {jobTemplate: {spec: {template: x}}}\n', 'no pod template at spec.jobTemplate.spec.template'],
    ['kind: Pod\nmetadata:\n  annotations: [a]\n', 'its metadata.annotations is not a mapping'],
  ];
  for (const [text, reason] of cases) {
    assert.deepEqual(edit(text, 'inject').outcome, { result: 'skipped', reason });
    assert.deepEqual(edit(text, 'uninject').outcome, { result: 'skipped', reason });
  }
});

test('inject treats any non-disabled inject value as already injected', () => {
  assert.deepEqual(edit('kind: Pod\nmetadata:\n  annotations: {fathom.io/inject: ingress}\n', 'inject').outcome, { result: 'skipped', reason: 'already injected' });
});
