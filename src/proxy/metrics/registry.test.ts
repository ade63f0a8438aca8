import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExposition, type Sample } from '../../lib/prom-text.js';
import type { ProcessSnapshot } from './process.js';
import { ProxyMetrics } from './registry.js';

const FIXED_PROCESS: ProcessSnapshot = {
  cpuSeconds: 1.5,
  residentBytes: 1000,
  virtualBytes: 2000,
  openFds: 7,
  maxFds: 1024,
  startTimeSeconds: 1700000000.25,
};

/** A registry with a controllable clock and fixed process figures. */
function setup(retainIdleMs = 60_000) {
  const clock = { t: 1_000_000 };
  const metrics = new ProxyMetrics({ now: () => clock.t, retainIdleMs, version: '1.2.3', process: () => FIXED_PROCESS });
  return { clock, metrics };
}

function samples(text: string): Sample[] {
  return parseExposition(text);
}

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text).find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
}

test('render of a tiny registry is exactly the expected exposition', () => {
  const { metrics } = setup();
  const h = metrics.http({ direction: 'inbound', authority: 'web:80', tls: 'disabled' });
  h.request();
  h.request();
  h.response({ statusCode: 200, latencyMs: 3 });
  h.response({ statusCode: 500, latencyMs: 12.5 });
  const c = metrics.tcpOpen({ direction: 'inbound', peer: 'src', tls: 'disabled' });
  c.read(10);
  c.write(20);
  c.close();
  metrics.tcpOpen({ direction: 'inbound', peer: 'src', tls: 'disabled' });

  const pre = 'direction="inbound",authority="web:80",tls="disabled"';
  const buckets = (status: string, at: number) =>
    ['1', '2', '3', '4', '5', '10', '20', '30', '40', '50', '100', '200', '300', '400', '500', '1000', '2000', '3000',
      '4000', '5000', '10000', '20000', '30000', '40000', '50000', '+Inf'].map(
      (le, i) => `response_latency_ms_bucket{${pre},status_code="${status}",le="${le}"} ${i >= at ? 1 : 0}`,
    );
  const tcp = 'direction="inbound",peer="src",tls="disabled"';
  const want = [
    '# HELP request_total Total count of HTTP requests.',
    '# TYPE request_total counter',
    `request_total{${pre}} 2`,
    '# HELP response_total Total count of HTTP responses.',
    '# TYPE response_total counter',
    `response_total{${pre},classification="success",status_code="200"} 1`,
    `response_total{${pre},classification="failure",status_code="500"} 1`,
    "# HELP response_latency_ms Elapsed times between a request's headers being received and its response stream completing, in milliseconds.",
    '# TYPE response_latency_ms histogram',
    ...buckets('200', 2),
    `response_latency_ms_sum{${pre},status_code="200"} 3`,
    `response_latency_ms_count{${pre},status_code="200"} 1`,
    ...buckets('500', 6),
    `response_latency_ms_sum{${pre},status_code="500"} 12.5`,
    `response_latency_ms_count{${pre},status_code="500"} 1`,
    '# HELP tcp_open_total Total count of opened connections.',
    '# TYPE tcp_open_total counter',
    `tcp_open_total{${tcp}} 2`,
    '# HELP tcp_close_total Total count of closed connections.',
    '# TYPE tcp_close_total counter',
    `tcp_close_total{${tcp},errno=""} 1`,
    '# HELP tcp_open_connections Number of currently-open connections.',
    '# TYPE tcp_open_connections gauge',
    `tcp_open_connections{${tcp}} 1`,
    '# HELP tcp_read_bytes_total Total count of bytes read from peers.',
    '# TYPE tcp_read_bytes_total counter',
    `tcp_read_bytes_total{${tcp}} 10`,
    '# HELP tcp_write_bytes_total Total count of bytes written to peers.',
    '# TYPE tcp_write_bytes_total counter',
    `tcp_write_bytes_total{${tcp}} 20`,
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    'process_cpu_seconds_total 1.5',
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 1000',
    '# HELP process_virtual_memory_bytes Virtual memory size in bytes.',
    '# TYPE process_virtual_memory_bytes gauge',
    'process_virtual_memory_bytes 2000',
    '# HELP process_open_fds Number of open file descriptors.',
    '# TYPE process_open_fds gauge',
    'process_open_fds 7',
    '# HELP process_max_fds Maximum number of open file descriptors.',
    '# TYPE process_max_fds gauge',
    'process_max_fds 1024',
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    'process_start_time_seconds 1700000000.25',
    '# HELP proxy_build_info Proxy build info.',
    '# TYPE proxy_build_info gauge',
    'proxy_build_info{version="1.2.3"} 1',
    '',
  ].join('\n');
  assert.equal(metrics.render(), want);
});

test('an empty registry renders only process metrics and build info', () => {
  const { metrics } = setup();
  const names = new Set(samples(metrics.render()).map((s) => s.name));
  assert.deepEqual([...names], [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_virtual_memory_bytes',
    'process_open_fds',
    'process_max_fds',
    'process_start_time_seconds',
    'proxy_build_info',
  ]);
});

test('response labels carry grpc_status and error when present, and classification overrides', () => {
  const { metrics } = setup();
  const h = metrics.http({ direction: 'outbound', authority: 'voting:8080' });
  h.response({ statusCode: 200, grpcStatus: 2, latencyMs: 1 });
  h.response({ statusCode: 200, grpcStatus: 0, latencyMs: 1 });
  h.response({ statusCode: 200, grpcStatus: 0, latencyMs: 1 });
  h.response({ statusCode: 0, latencyMs: 1, error: 'connect_refused' });
  h.response({ statusCode: 503, latencyMs: 1, classification: 'success' });
  const text = metrics.render();
  const base = { direction: 'outbound', authority: 'voting:8080' };
  assert.equal(value(text, 'response_total', { ...base, classification: 'failure', status_code: '200', grpc_status: '2' }), 1);
  assert.equal(value(text, 'response_total', { ...base, classification: 'success', status_code: '200', grpc_status: '0' }), 2);
  assert.equal(value(text, 'response_total', { ...base, classification: 'failure', error: 'connect_refused' }), 1);
  assert.equal(value(text, 'response_total', { ...base, classification: 'success', status_code: '503' }), 1);
  assert.equal(value(text, 'response_latency_ms_count', { ...base, status_code: '200' }), 3);
  assert.equal(value(text, 'response_latency_ms_count', base), 1);
});

test('label values are escaped, names sanitized, and reserved names left to the family', () => {
  const { metrics } = setup();
  const h = metrics.http({ authority: 'a"b\\c\nd', 'app.kubernetes.io/name': 'web', le: 'x', status_code: 'y' });
  h.response({ statusCode: 200, latencyMs: 1 });
  const c = metrics.tcpOpen({ target_addr: '10.0.0.1:80', errno: 'bogus' });
  c.close('ECONNRESET');
  const text = metrics.render();
  assert.match(text, /^request_total\{authority="a\\"b\\\\c\\nd",app_kubernetes_io_name="web"\} 0$/m);
  assert.equal(value(text, 'response_latency_ms_bucket', { authority: 'a"b\\c\nd', app_kubernetes_io_name: 'web', status_code: '200', le: '1' }), 1);
  assert.match(text, /^tcp_close_total\{target_addr="10\.0\.0\.1:80",errno="ECONNRESET"\} 1$/m);
});

test('the same labels in another order are the same series, printed in the first order seen', () => {
  const { metrics } = setup();
  const a = metrics.http({ direction: 'inbound', authority: 'x' });
  const b = metrics.http({ authority: 'x', direction: 'inbound' });
  assert.equal(a, b);
  assert.equal(metrics.http({ direction: 'inbound', authority: 'x' }), a);
  assert.notEqual(metrics.http({ direction: 'inbound', authority: 'y' }), a);
  a.request();
  b.request();
  const lines = metrics.render().split('\n').filter((l) => l.startsWith('request_total{'));
  assert.deepEqual(lines, ['request_total{direction="inbound",authority="x"} 2', 'request_total{direction="inbound",authority="y"} 0']);
});

test('label values cannot forge another label set\'s key', () => {
  const { metrics } = setup();
  // With naive separators these two would share a key.
  assert.notEqual(metrics.http({ a: '1', b: '2' }), metrics.http({ a: '1' + '2:b' + '1:2' }));
  assert.notEqual(metrics.http({ a: '1', b: '2' }), metrics.http({ a: '1\u00001:b\u0000' + '2' }));
});

test('tcp close is idempotent and counts errno, empty when clean', () => {
  const { metrics } = setup();
  const labels = { direction: 'outbound', peer: 'dst', tls: 'disabled' };
  const one = metrics.tcpOpen(labels);
  const two = metrics.tcpOpen(labels);
  one.close();
  one.close();
  one.close('EPIPE');
  two.close('ECONNRESET');
  two.close('ECONNRESET');
  const text = metrics.render();
  assert.equal(value(text, 'tcp_open_total', labels), 2);
  assert.equal(value(text, 'tcp_open_connections', labels), 0);
  assert.equal(value(text, 'tcp_close_total', { ...labels, errno: '' }), 1);
  assert.equal(value(text, 'tcp_close_total', { ...labels, errno: 'ECONNRESET' }), 1);
  assert.equal(value(text, 'tcp_close_total', { ...labels, errno: 'EPIPE' }), undefined);
});

test('byte counters add up as data flows', () => {
  const { metrics } = setup();
  const labels = { direction: 'inbound', peer: 'src' };
  const c = metrics.tcpOpen(labels);
  c.read(100);
  c.read(5);
  c.write(7);
  assert.equal(value(metrics.render(), 'tcp_read_bytes_total', labels), 105);
  c.read(1);
  const text = metrics.render();
  assert.equal(value(text, 'tcp_read_bytes_total', labels), 106);
  assert.equal(value(text, 'tcp_write_bytes_total', labels), 7);
});

test('idle series are dropped at render; updated and open ones are kept', () => {
  const { clock, metrics } = setup(60_000);
  const idle = metrics.http({ authority: 'idle' });
  idle.request();
  const busy = metrics.http({ authority: 'busy' });
  const openConn = metrics.tcpOpen({ peer: 'src', target_addr: 'open' });
  metrics.tcpOpen({ peer: 'src', target_addr: 'closed' }).close();

  clock.t += 50_000;
  busy.request();
  openConn.read(1);
  clock.t += 10_001; // idle and the closed connection's series are now 60.001 s old
  const text = metrics.render();
  const authorities = samples(text).filter((s) => s.name === 'request_total').map((s) => s.labels.authority);
  assert.deepEqual(authorities, ['busy']);
  const targets = samples(text).filter((s) => s.name === 'tcp_open_total').map((s) => s.labels.target_addr);
  assert.deepEqual(targets, ['open']);

  clock.t += 3_600_000; // an open connection keeps its series however long it is quiet
  assert.equal(value(metrics.render(), 'tcp_open_connections', { peer: 'src', target_addr: 'open' }), 1);
  openConn.close();
  clock.t += 60_001;
  assert.equal(value(metrics.render(), 'tcp_open_total', { peer: 'src', target_addr: 'open' }), undefined);
});

test('a held handle revives its dropped series, keeping its counts monotonic', () => {
  const { clock, metrics } = setup(1_000);
  const h = metrics.http({ authority: 'kept' });
  h.request();
  clock.t += 2_000;
  assert.equal(value(metrics.render(), 'request_total', { authority: 'kept' }), undefined);
  h.request();
  assert.equal(value(metrics.render(), 'request_total', { authority: 'kept' }), 2);
  assert.equal(metrics.http({ authority: 'kept' }), h);
});

test('when a new series replaced a dropped one, the old handle feeds the new series', () => {
  const { clock, metrics } = setup(1_000);
  const old = metrics.http({ authority: 'x' });
  old.request();
  clock.t += 2_000;
  metrics.render();
  const fresh = metrics.http({ authority: 'x' });
  assert.notEqual(fresh, old);
  fresh.request();
  old.request();
  old.response({ statusCode: 200, latencyMs: 1 });
  const text = metrics.render();
  assert.equal(value(text, 'request_total', { authority: 'x' }), 2);
  assert.equal(value(text, 'response_total', { authority: 'x', classification: 'success', status_code: '200' }), 1);
  assert.equal(samples(text).filter((s) => s.name === 'request_total').length, 1);
});

test('passing the same labels object again finds the series, also after it was dropped', () => {
  const { clock, metrics } = setup(1_000);
  const labels = { direction: 'inbound', authority: 'same' };
  const first = metrics.http(labels);
  assert.equal(metrics.http(labels), first);
  clock.t += 2_000;
  metrics.render();
  const second = metrics.http(labels);
  assert.notEqual(second, first);
  assert.equal(metrics.http(labels), second);
  assert.equal(metrics.http({ ...labels }), second);
});
