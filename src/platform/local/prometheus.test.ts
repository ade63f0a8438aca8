// The Prometheus that `fathom up` runs: its flags, its config, and the targets file with Linkerd's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeConfig } from './config.js';
import type { PodRecord } from './pod-record.js';
import { prometheusArgs, prometheusConfig, prometheusTargets } from './prometheus.js';
import type { PodView } from './snapshot.js';

test('Prometheus keeps 6 hours, listens on its own port and scrapes every 5 s from the targets file', () => {
  const config = makeConfig({ stateDir: '/s', prometheusPort: 9999 });
  assert.deepEqual(prometheusArgs(config), [
    '--config.file=/s/prometheus/prometheus.yml',
    '--storage.tsdb.path=/s/prometheus/data',
    '--storage.tsdb.retention.time=6h',
    '--web.listen-address=127.0.0.1:9999',
    '--web.enable-lifecycle',
  ]);
  const yml = prometheusConfig(config);
  assert.match(yml, /scrape_interval: 5s/);
  assert.match(yml, /job_name: fathom-proxy\n {4}file_sd_configs:\n {6}- files: \["\/s\/prometheus\/targets\.json"\]/);
});

test('targets: meshed running pods, labelled namespace, pod, owner and the pod labels', () => {
  const view = (name: string, meshed: boolean, phase: 'Running' | 'Pending', terminating = false): PodView => ({
    record: { namespace: 'demo', name, ip: `198.18.0.${name.length}`, meshed, labels: { app: 'web', 'pod-template-hash': 'h', 'app.kubernetes.io/part-of': 'shop' }, owner: { kind: 'Deployment', name: 'web', uid: 'u' } } as unknown as PodRecord,
    status: { phase } as PodView['status'],
    terminating,
    ready: phase === 'Running',
  });
  const targets = JSON.parse(prometheusTargets([view('web-1', true, 'Running'), view('plain', false, 'Running'), view('web-22', true, 'Pending'), view('web-333', true, 'Running', true)]));
  assert.deepEqual(targets, [
    { targets: ['198.18.0.5:4191'], labels: { app: 'web', pod_template_hash: 'h', app_kubernetes_io_part_of: 'shop', namespace: 'demo', pod: 'web-1', deployment: 'web' } },
  ]);
});
