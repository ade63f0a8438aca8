import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryPlatform } from '../../platform/memory/memory-platform.js';
import type { Address } from './endpoint-translator.js';
import { EndpointsWatcher, type EndpointsListener } from './endpoints-watcher.js';

function log(): { listener: EndpointsListener; calls: string[] } {
  const calls: string[] = [];
  const fmt = (a: readonly Address[]) => a.map((x) => `${x.ip}:${x.port}`).join(',');
  return {
    calls,
    listener: {
      add: (a) => calls.push(`add ${fmt(a)}`),
      remove: (a) => calls.push(`remove ${fmt(a)}`),
      noEndpoints: (exists) => calls.push(`none exists=${exists}`),
    },
  };
}

const service = { namespace: 'ns', name: 'web', ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'web' } };
const pod = (name: string, ip: string, extra = {}) => ({ namespace: 'ns', name, ip, labels: { app: 'web' }, ...extra });

test('state first, then diffs; adds before removes; metadata changes re-add', () => {
  const p = new MemoryPlatform({ services: [service], pods: [pod('a', '198.18.0.1')] });
  const w = new EndpointsWatcher(p);
  const { listener, calls } = log();
  w.subscribe({ kind: 'service', namespace: 'ns', name: 'web', port: 80 }, listener);
  assert.deepEqual(calls, ['add 198.18.0.1:8080']);

  p.replace({ services: [service], pods: [pod('b', '198.18.0.2')] });
  assert.deepEqual(calls.slice(1), ['add 198.18.0.2:8080', 'remove 198.18.0.1:8080']);

  p.updatePod('ns', 'b', { meshed: true });
  assert.deepEqual(calls.slice(3), ['add 198.18.0.2:8080']);

  p.deletePod('ns', 'b');
  p.deleteService('ns', 'web');
  assert.deepEqual(calls.slice(4), ['none exists=true', 'none exists=false']);
  w.close();
});

test('a port the service does not declare goes to that port on each endpoint', () => {
  const p = new MemoryPlatform({ services: [service], pods: [pod('a', '198.18.0.1')] });
  const w = new EndpointsWatcher(p);
  const { listener, calls } = log();
  w.subscribe({ kind: 'service', namespace: 'ns', name: 'web', port: 9090 }, listener);
  assert.deepEqual(calls, ['add 198.18.0.1:9090']);
  w.close();
});

test('subscribers share a topic, and it goes away with the last one', () => {
  const p = new MemoryPlatform({ services: [service] });
  const w = new EndpointsWatcher(p);
  const one = log();
  const two = log();
  const src = { kind: 'service', namespace: 'ns', name: 'web', port: 80 } as const;
  const off1 = w.subscribe(src, one.listener);
  const off2 = w.subscribe(src, two.listener);
  assert.equal(w.size, 1);
  p.applyPod(pod('a', '198.18.0.1'));
  assert.deepEqual(one.calls, ['none exists=true', 'add 198.18.0.1:8080']);
  assert.deepEqual(two.calls, one.calls);
  off1();
  off2();
  assert.equal(w.size, 0);
  w.close();
});

test('a pod IP is its own destination', () => {
  const p = new MemoryPlatform();
  const w = new EndpointsWatcher(p);
  const { listener, calls } = log();
  w.subscribe({ kind: 'pod', ip: '198.18.0.7', port: 6379 }, listener);
  p.applyPod(pod('r', '198.18.0.7'));
  p.deletePod('ns', 'r');
  assert.deepEqual(calls, ['none exists=false', 'add 198.18.0.7:6379', 'none exists=false']);
  w.close();
});
